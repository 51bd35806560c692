{{- define "tether-delegate.name" -}}
{{- required "delegateName is required (the name 'delegate list' shows)" .Values.delegateName | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tether-delegate.secretName" -}}
{{- if .Values.existingDelegateToken -}}
{{- .Values.existingDelegateToken -}}
{{- else -}}
{{- printf "%s-token" (include "tether-delegate.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tether-delegate.labels" -}}
app.kubernetes.io/name: tether-delegate
app.kubernetes.io/instance: {{ include "tether-delegate.name" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
