{{/* Standard labels; the same set `harbor-keyless manifests` writes. Call with (dict "root" . "component" NAME). */}}
{{- define "harbor-keyless.labels" -}}
app.kubernetes.io/name: harbor-keyless
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end }}

{{- define "harbor-keyless.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "harbor-keyless.host" -}}
{{- if ne .Values.profile "k3s" }}{{ fail (printf "profile %q is not supported: use k3s" .Values.profile) }}{{ end -}}
{{ required "registry.host is required: set it to the Harbor host, such as harbor.example.com" .Values.registry.host }}
{{- end }}

{{- define "harbor-keyless.audience" -}}
{{ .Values.registry.audience | default (include "harbor-keyless.host" .) }}
{{- end }}

{{/* Host paths the agent touches, mounted under /host. Directories only, except
/etc/machine-id, because the agent replaces files by rename and a rename onto a
bind-mounted file fails. Each entry: volume name, host path, hostPath type, read-only. */}}
{{- define "harbor-keyless.hostMounts" -}}
- [k3s-config, /etc/rancher/k3s, DirectoryOrCreate, false]
- [credential-provider, /var/lib/rancher/credentialprovider, DirectoryOrCreate, false]
- [state, /var/lib/harbor-keyless, DirectoryOrCreate, false]
- [dbus, /run/dbus, Directory, false]
- [journal, /var/log/journal, DirectoryOrCreate, true]
- [runtime-journal, /run/log/journal, DirectoryOrCreate, true]
- [machine-id, /etc/machine-id, File, true]
- [k3s-binary, /usr/local/bin, Directory, true]
- [kubelet-config, /var/lib/rancher/k3s/agent/etc/kubelet.conf.d, DirectoryOrCreate, true]
- [systemd-units-etc, /etc/systemd/system, Directory, true]
- [systemd-units-lib, /lib/systemd/system, Directory, true]
{{- end }}
