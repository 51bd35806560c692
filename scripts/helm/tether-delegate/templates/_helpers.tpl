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
{{- $name := "" -}}
{{- if .Values.serviceAccount.create -}}
{{- $name = default (include "tether-delegate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- $name = default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- /* the Role may update the token's Secret: never give that to every pod of the namespace */ -}}
{{- if and .Values.rotation.enabled (eq $name "default") -}}
{{- fail "rotation.enabled would bind the Role that may update the token's Secret to the ServiceAccount \"default\", which every pod of the namespace without an account of its own runs as: set serviceAccount.create=true (the default), or serviceAccount.name to an account only this delegate uses, or rotation.enabled=false" -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{/* The Role and RoleBinding that let the delegate keep a pushed token in its Secret. */}}
{{- define "tether-delegate.rotationRoleName" -}}
{{- printf "%s-token-rotation" (include "tether-delegate.fullname" .) -}}
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
