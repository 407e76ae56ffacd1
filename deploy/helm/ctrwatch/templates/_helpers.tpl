{{/* Name of the chart, truncated to the DNS label limit. */}}
{{- define "ctrwatch.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified app name: release-chart unless the release already has it. */}}
{{- define "ctrwatch.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Standard app.kubernetes.io labels. */}}
{{- define "ctrwatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "ctrwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: agent
app.kubernetes.io/part-of: ctrwatch
{{- end -}}

{{- define "ctrwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ctrwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ctrwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ctrwatch.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ctrwatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The memory request and limit from the sizing formula in values.yaml
     (README "Sizing"), in MiB, rounded up. */}}
{{- define "ctrwatch.memory" -}}
{{- $s := .Values.sizing -}}
{{- $kib := add (mul $s.baseMiB 1024) (mul $s.perCpuKiB $s.nodeCpus) (mul $s.perContainerKiB $s.containersPerNode) -}}
{{- $kib = div (mul $kib (add 100 $s.headroomPercent)) 100 -}}
{{- printf "%dMi" (div (add $kib 1023) 1024) -}}
{{- end -}}

{{/* Whether the ServiceMonitor is rendered (asked for, and the API exists). */}}
{{- define "ctrwatch.serviceMonitor" -}}
{{- if and .Values.serviceMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") -}}true{{- end -}}
{{- end -}}

{{/* Where the prometheus.io/scrape annotations go: "pod", "service" or ""
     (none, or a ServiceMonitor scrapes the agents). */}}
{{- define "ctrwatch.scrapeAnnotations" -}}
{{- $where := .Values.scrapeAnnotations -}}
{{- if not (has $where (list "pod" "service" "none")) -}}
{{- fail (printf "scrapeAnnotations: %q is not one of pod, service, none" $where) -}}
{{- end -}}
{{- if and (ne $where "none") (not (include "ctrwatch.serviceMonitor" .)) -}}{{ $where }}{{- end -}}
{{- end -}}

{{/* The agent's --listen: every address, or the node's own (bracketed: the
agent takes [ADDR]:PORT for IPv4 and IPv6 alike). */}}
{{- define "ctrwatch.listen" -}}
{{- if .Values.agent.bindNodeIP -}}
{{- printf "[$(HOST_IP)]:%v" .Values.agent.port -}}
{{- else -}}
{{- printf "0.0.0.0:%v" .Values.agent.port -}}
{{- end -}}
{{- end -}}

{{/* http or https, for probes, annotations and the ServiceMonitor. */}}
{{- define "ctrwatch.scheme" -}}
{{- if .Values.agent.tls.enabled -}}https{{- else -}}http{{- end -}}
{{- end -}}
