{{/* Name of the chart, or nameOverride. */}}
{{- define "switchyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: fullnameOverride, else the release name (with the chart name when it does not contain it). */}}
{{- define "switchyard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Selector labels: stable across upgrades. */}}
{{- define "switchyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Common labels. */}}
{{- define "switchyard.labels" -}}
{{ include "switchyard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: ingress-controller
app.kubernetes.io/part-of: switchyard
{{- if .Values.plainManifests }}
app.kubernetes.io/managed-by: kubectl
{{- else }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}
{{- end }}

{{- define "switchyard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "switchyard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "switchyard.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Seconds the kubelet waits after SIGTERM; at least accept grace + grace + 5 s. */}}
{{- define "switchyard.terminationGracePeriod" -}}
{{- $min := add (int .Values.lifecycle.requestAcceptGraceTimeout) (int .Values.lifecycle.graceTimeOut) }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $min 5 }}
{{- else if lt (int .Values.terminationGracePeriodSeconds) (int $min) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least lifecycle.requestAcceptGraceTimeout + lifecycle.graceTimeOut (%d): the kubelet would kill in-flight requests" (int .Values.terminationGracePeriodSeconds) (int $min)) }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* "true" when some entry point listens below 1024 (it then needs NET_BIND_SERVICE). */}}
{{- define "switchyard.needsBindService" -}}
{{- range $name, $p := .Values.ports }}
{{- if and $p (lt (int $p.port) 1024) }}true{{- end }}
{{- end }}
{{- end }}

{{/* Checks that are not expressed by the schema. */}}
{{- define "switchyard.validate" -}}
{{- if and .Values.rbac.namespaced (not .Values.watchNamespaces) }}
{{- fail "rbac.namespaced needs watchNamespaces: the namespaces to grant Roles in" }}
{{- end }}
{{- if and .Values.providers.kubernetesIngressNGINX.enabled (gt (len .Values.watchNamespaces) 1) }}
{{- fail "providers.kubernetesIngressNGINX watches one namespace or all of them (watchNamespace): watchNamespaces has more than one" }}
{{- end }}
{{- $any := false }}
{{- range $k, $p := .Values.providers }}{{ if $p.enabled }}{{ $any = true }}{{ end }}{{ end }}
{{- if not $any }}
{{- fail "no provider enabled: enable at least one of providers.kubernetesIngress, kubernetesIngressNGINX, kubernetesCRD, kubernetesGateway" }}
{{- end }}
{{- if not .Values.ports.traefik }}
{{- fail "ports.traefik is required: it serves /ping to the probes" }}
{{- end }}
{{- end }}

{{/*
RBAC rules for namespaced objects, from the enabled providers: what they
read (informers: list/watch; get for direct reads), the status they write,
and the events they record.
*/}}
{{- define "switchyard.namespacedRules" -}}
{{- $p := .Values.providers }}
{{- $ingress := or $p.kubernetesIngress.enabled $p.kubernetesIngressNGINX.enabled }}
- apiGroups: [""]
  resources: [services, secrets{{ if or $p.kubernetesIngressNGINX.enabled $p.kubernetesCRD.enabled }}, configmaps{{ end }}]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- if $ingress }}
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses/status]
  verbs: [update, patch]
{{- end }}
{{- if $p.kubernetesCRD.enabled }}
- apiGroups: [traefik.io]
  resources: [ingressroutes, ingressroutetcps, ingressrouteudps, middlewares, middlewaretcps, traefikservices, tlsoptions, tlsstores, serverstransports, serverstransporttcps]
  verbs: [get, list, watch]
{{- end }}
{{- if $p.kubernetesGateway.enabled }}
- apiGroups: [gateway.networking.k8s.io]
  resources: [gateways, httproutes, grpcroutes, tlsroutes, tcproutes, referencegrants]
  verbs: [get, list, watch]
- apiGroups: [gateway.networking.k8s.io]
  resources: [gateways/status, httproutes/status, grpcroutes/status, tlsroutes/status, tcproutes/status]
  verbs: [update, patch]
{{- end }}
{{- end }}

{{/* RBAC rules for cluster-scoped objects. */}}
{{- define "switchyard.clusterRules" -}}
{{- $p := .Values.providers }}
{{- if or $p.kubernetesIngress.enabled $p.kubernetesIngressNGINX.enabled }}
- apiGroups: [networking.k8s.io]
  resources: [ingressclasses]
  verbs: [get, list, watch]
{{- end }}
{{- if and $p.kubernetesIngress.enabled $p.kubernetesIngress.publishedService .Values.service.enabled (eq .Values.service.type "NodePort") }}
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list, watch]
{{- end }}
{{- if or $p.kubernetesGateway.enabled $p.kubernetesIngressNGINX.enabled }}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
{{- end }}
{{- if $p.kubernetesGateway.enabled }}
- apiGroups: [gateway.networking.k8s.io]
  resources: [gatewayclasses]
  verbs: [get, list, watch]
- apiGroups: [gateway.networking.k8s.io]
  resources: [gatewayclasses/status]
  verbs: [update, patch]
{{- end }}
{{- end }}

{{/* The static configuration (switchyard.yml). */}}
{{- define "switchyard.staticConfig" -}}
{{- $ns := .Release.Namespace }}
{{- $svc := include "switchyard.fullname" . }}
{{- $eps := dict }}
{{- range $name, $p := .Values.ports }}
{{- if $p }}
{{- $ep := dict "address" (printf ":%d" (int $p.port)) }}
{{- if eq (lower (default "TCP" $p.protocol)) "udp" }}
{{- $_ := set $ep "address" (printf ":%d/udp" (int $p.port)) }}
{{- end }}
{{- if ne (lower (default "TCP" $p.protocol)) "udp" }}
{{- $_ := set $ep "transport" (dict "lifeCycle" (dict "requestAcceptGraceTimeout" (printf "%ds" (int $.Values.lifecycle.requestAcceptGraceTimeout)) "graceTimeOut" (printf "%ds" (int $.Values.lifecycle.graceTimeOut)))) }}
{{- end }}
{{- if $p.tls }}
{{- $_ := set $ep "http" (dict "tls" dict) }}
{{- end }}
{{- $_ := set $eps $name $ep }}
{{- end }}
{{- end }}
{{- $providers := dict }}
{{- range $name := list "kubernetesIngress" "kubernetesIngressNGINX" "kubernetesCRD" "kubernetesGateway" }}
{{- $p := index $.Values.providers $name }}
{{- if $p.enabled }}
{{- $o := deepCopy (default dict $p.options) }}
{{- if $.Values.watchNamespaces }}
{{- if eq $name "kubernetesIngressNGINX" }}
{{- $_ := set $o "watchNamespace" (first $.Values.watchNamespaces) }}
{{- else }}
{{- $_ := set $o "namespaces" $.Values.watchNamespaces }}
{{- end }}
{{- end }}
{{- if and $.Values.service.enabled $p.publishedService }}
{{- if eq $name "kubernetesIngressNGINX" }}
{{- $_ := set $o "publishService" (printf "%s/%s" $ns $svc) }}
{{- else if eq $name "kubernetesGateway" }}
{{- $_ := set $o "statusAddress" (dict "service" (dict "name" $svc "namespace" $ns)) }}
{{- else }}
{{- $_ := set $o "ingressEndpoint" (dict "publishedService" (printf "%s/%s" $ns $svc)) }}
{{- end }}
{{- end }}
{{- $_ := set $providers $name $o }}
{{- end }}
{{- end }}
{{- $cfg := dict "entryPoints" $eps "providers" $providers "ping" (dict "entryPoint" "traefik") }}
{{- $_ := set $cfg "log" (dict "level" .Values.log.level "format" .Values.log.format) }}
{{- if .Values.accessLog.enabled }}
{{- $_ := set $cfg "accessLog" (dict "format" .Values.accessLog.format) }}
{{- end }}
{{- if .Values.api.enabled }}
{{- $_ := set $cfg "api" (dict "insecure" true "dashboard" true) }}
{{- end }}
{{- if .Values.metrics.prometheus.enabled }}
{{- $_ := set $cfg "metrics" (dict "prometheus" (dict "entryPoint" "traefik")) }}
{{- end }}
{{- toYaml (mergeOverwrite $cfg (deepCopy .Values.staticConfig)) }}
{{- end }}
