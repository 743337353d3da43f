{{- define "stem-net.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "stem-net.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "stem-net.labels" -}}
{{ include "stem-net.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The admin token's Secret, or nothing when no token is configured. */}}
{{- define "stem-net.adminSecretName" -}}
{{- if .Values.admin.existingSecret -}}
{{- .Values.admin.existingSecret -}}
{{- else if .Values.admin.token -}}
{{- include "stem-net.fullname" . }}-admin
{{- end -}}
{{- end -}}

{{/*
The service's application.yaml: the operator's `config`, then the keys the chart owns because they name its
volumes and choices (the model directory, the embedding store, the experiment file and the exposure log).
*/}}
{{- define "stem-net.application" -}}
{{- $embedding := dict "store" .Values.embedding.store -}}
{{- if eq .Values.embedding.store "redis" -}}
{{- $redis := dict "cluster" .Values.embedding.redis.cluster "timeout" .Values.embedding.redis.timeout "delta-poll-interval" .Values.embedding.redis.deltaPollInterval -}}
{{- if not .Values.embedding.redis.uriSecret.name -}}
{{- $_ := set $redis "uri" .Values.embedding.redis.uri -}}
{{- end -}}
{{- $_ := set $embedding "redis" $redis -}}
{{- else if ne .Values.embedding.store "mapped" -}}
{{- fail "embedding.store must be mapped or redis" -}}
{{- end -}}
{{- $stem := dict "models" (dict "repository" "/models") "embedding" $embedding -}}
{{- $experiments := dict -}}
{{- if .Values.experiments.config -}}
{{- $_ := set $experiments "config" "/config/experiments.yaml" -}}
{{- end -}}
{{- if .Values.experiments.exposureLog.enabled -}}
{{- $_ := set $experiments "exposure-log" (dict "dir" "/exposures") -}}
{{- end -}}
{{- if $experiments -}}
{{- $_ := set $stem "experiments" $experiments -}}
{{- end -}}
{{- toYaml (mustMergeOverwrite (deepCopy .Values.config) (dict "stem" $stem)) -}}
{{- end -}}
