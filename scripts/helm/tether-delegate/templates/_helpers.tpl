{{/* The chart name, or nameOverride. */}}
{{- define "tether-delegate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Object names: from the release (RELEASE-tether-delegate, or fullnameOverride), never from
delegateName, so that two releases cannot collide and a release owns its names.
*/}}
{{- define "tether-delegate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* DELEGATE_NAME, the name 'delegate list' shows. */}}
{{- define "tether-delegate.delegateName" -}}
{{- required "delegateName is required (the name 'tether-manager delegate list' shows: lowercase letters, digits and '-')" .Values.delegateName -}}
{{- end -}}

{{- define "tether-delegate.secretName" -}}
{{- if .Values.existingDelegateToken -}}
{{- .Values.existingDelegateToken -}}
{{- else -}}
{{- printf "%s-token" (include "tether-delegate.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}
{{- end -}}

{{- define "tether-delegate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tether-delegate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tether-delegate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tether-delegate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tether-delegate.labels" -}}
{{ include "tether-delegate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}
