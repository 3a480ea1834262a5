{{/*
Helper names match upstream's chart, so that `extraObjects` entries written
for it (they are rendered with `tpl`) keep working here.
*/}}

{{/* The name of every object: the chart name, or nameOverride. */}}
{{- define "cert-manager-istio-csr.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Upstream's values.yaml shows "cert-manager-istio-csr.fullname" in its
extraObjects example; it is the same as the name here.
*/}}
{{- define "cert-manager-istio-csr.fullname" -}}
{{- include "cert-manager-istio-csr.name" . -}}
{{- end -}}

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "cert-manager-istio-csr.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object, plus commonLabels. */}}
{{- define "cert-manager-istio-csr.labels" -}}
app.kubernetes.io/name: {{ include "cert-manager-istio-csr.name" . }}
helm.sh/chart: {{ include "cert-manager-istio-csr.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- with .Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The runtime-configuration ConfigMap name: runtimeConfiguration.name, else the
deprecated runtimeIssuanceConfigMap, else the chart name when the chart
creates the ConfigMap, else empty (runtime configuration off).
*/}}
{{- define "cert-manager-istio-csr.runtimeConfigurationName" -}}
{{- $rc := .Values.app.runtimeConfiguration -}}
{{- if $rc.name -}}
{{- $rc.name -}}
{{- else if .Values.app.runtimeIssuanceConfigMap -}}
{{- .Values.app.runtimeIssuanceConfigMap -}}
{{- else if $rc.create -}}
{{- include "cert-manager-istio-csr.name" . -}}
{{- end -}}
{{- end -}}

{{/*
Whether istiodCertificateEnable selects the dynamic istiod certificate
(the string "dynamic"), and whether it selects the static Certificate rendered
by this chart (true, or the string "true").
*/}}
{{- define "cert-manager-istio-csr.istiodDynamic" -}}
{{- if eq (toString .Values.app.tls.istiodCertificateEnable) "dynamic" -}}true{{- end -}}
{{- end -}}

{{- define "cert-manager-istio-csr.istiodStatic" -}}
{{- if eq (toString .Values.app.tls.istiodCertificateEnable) "true" -}}true{{- end -}}
{{- end -}}

{{/*
The container image reference, with upstream's precedence:
- image.repository, if set, is the whole repository; otherwise it is
  [imageRegistry/][imageNamespace/]image.name;
- the deprecated image.registry is prefixed in both cases;
- then ":tag@digest", ":tag", "@digest", or ":<appVersion>".
*/}}
{{- define "cert-manager-istio-csr.image" -}}
{{- $image := .Values.image -}}
{{- $repository := "" -}}
{{- if $image.repository -}}
{{- $repository = $image.repository -}}
{{- else -}}
{{- $parts := list -}}
{{- with .Values.imageRegistry }}{{ $parts = append $parts . }}{{ end -}}
{{- with .Values.imageNamespace }}{{ $parts = append $parts . }}{{ end -}}
{{- $parts = append $parts (required "image.name must be set when image.repository is empty" $image.name) -}}
{{- $repository = join "/" $parts -}}
{{- end -}}
{{- with $image.registry -}}
{{- $repository = printf "%s/%s" . $repository -}}
{{- end -}}
{{- if and $image.tag $image.digest -}}
{{- printf "%s:%s@%s" $repository (toString $image.tag) $image.digest -}}
{{- else if $image.tag -}}
{{- printf "%s:%s" $repository (toString $image.tag) -}}
{{- else if $image.digest -}}
{{- printf "%s@%s" $repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository .Chart.AppVersion -}}
{{- end -}}
{{- end -}}

{{/*
The additional annotations as one pflag stringToString value ("k=v,k2=v2"),
the form upstream passes. pflag reads a value with exactly one "=" as a single
pair and anything else as a CSV record; so when the value is read as CSV, an
entry holding "," or "\"" is CSV-quoted. For every input that upstream's own
rendering passes correctly, the result is byte-for-byte the same.
*/}}
{{- define "cert-manager-istio-csr.annotationsFlagValue" -}}
{{- $pairs := list -}}
{{- range . -}}
{{- $pairs = append $pairs (printf "%s=%v" .name .value) -}}
{{- end -}}
{{- $joined := join "," $pairs -}}
{{- if eq (len (splitList "=" $joined)) 2 -}}
{{- $joined -}}
{{- else -}}
{{- $fields := list -}}
{{- range $pairs -}}
{{- if or (contains "," .) (contains "\"" .) (contains "\n" .) (contains "\r" .) -}}
{{- $fields = append $fields (printf "\"%s\"" (replace "\"" "\"\"" .)) -}}
{{- else -}}
{{- $fields = append $fields . -}}
{{- end -}}
{{- end -}}
{{- join "," $fields -}}
{{- end -}}
{{- end -}}

{{/*
A binding of the chart's ServiceAccount. Call with
(dict "ctx" $ "kind" "RoleBinding"|"ClusterRoleBinding" "name" N "namespace" NS);
the role it binds has the binding's name and the matching kind.
*/}}
{{- define "cert-manager-istio-csr.binding" -}}
{{- $ctx := .ctx -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: {{ .kind }}
metadata:
  name: {{ .name }}
  {{- with .namespace }}
  namespace: {{ . }}
  {{- end }}
  labels:
    {{- include "cert-manager-istio-csr.labels" $ctx | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: {{ eq .kind "ClusterRoleBinding" | ternary "ClusterRole" "Role" }}
  name: {{ .name }}
subjects:
- kind: ServiceAccount
  name: {{ include "cert-manager-istio-csr.name" $ctx }}
  namespace: {{ $ctx.Release.Namespace }}
{{- end -}}

{{/*
The whole seconds of a duration in minutes and seconds ("40s", "1m",
"1m30s": the forms values.schema.json allows for
app.server.shutdownGracePeriod).
*/}}
{{- define "cert-manager-istio-csr.seconds" -}}
{{- $text := toString . -}}
{{- $minutes := regexFind "^[0-9]+m" $text | trimSuffix "m" | default "0" | int -}}
{{- $seconds := regexFind "[0-9]+s$" $text | trimSuffix "s" | default "0" | int -}}
{{- add (mul $minutes 60) $seconds -}}
{{- end -}}
