{{- define "tether-manager.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object names come from the release: two releases in one namespace never collide. */}}
{{- define "tether-manager.fullname" -}}
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

{{- define "tether-manager.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tether-manager.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tether-manager.labels" -}}
{{ include "tether-manager.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: manager
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Whether this is the PostgreSQL replica form; it fails when that form lacks its Secrets. */}}
{{- define "tether-manager.replicated" -}}
{{- if .Values.database.url -}}
{{- $_ := required "database.existingSecret is required with database.url: a Secret holding the database user and password" .Values.database.existingSecret -}}
{{- $_ := required "keys.existingSecret is required with database.url: a Secret holding master.key and admin.key, the same for every replica (docs/high-availability.md)" .Values.keys.existingSecret -}}
{{- $_ := required "tls.existingSecret is required with database.url: a kubernetes.io/tls Secret (tls.key in PKCS#8) that every replica serves; a replica's generated certificate would change at each restart, and delegates could not trust it" .Values.tls.existingSecret -}}
true
{{- else if ne (int .Values.replicas) 1 -}}
{{- fail (printf "replicas %v needs database.url: the embedded H2 database serves one manager; set database.url to a PostgreSQL JDBC URL for replicas, or replicas to 1" .Values.replicas) -}}
{{- end -}}
{{- end -}}

{{- define "tether-manager.tlsNames" -}}
{{- $full := include "tether-manager.fullname" . -}}
{{- $names := list -}}
{{- range $svc := list $full (printf "%s-admin" $full) -}}
{{- $names = concat $names (list $svc (printf "%s.%s" $svc $.Release.Namespace) (printf "%s.%s.svc" $svc $.Release.Namespace)) -}}
{{- end -}}
{{- join "," (concat $names .Values.tls.extraNames) -}}
{{- end -}}

{{/* The pod template shared by the StatefulSet (H2) and the Deployment (PostgreSQL). */}}
{{- define "tether-manager.podTemplate" -}}
{{- $replicated := include "tether-manager.replicated" . -}}
metadata:
  labels:
    {{- include "tether-manager.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if or .Values.scrapeAnnotations .Values.podAnnotations }}
  annotations:
    {{- if .Values.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ .Values.ports.ops | quote }}
    prometheus.io/path: "/metrics"
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
spec:
  automountServiceAccountToken: false
  {{- with .Values.serviceAccount.name }}
  serviceAccountName: {{ . }}
  {{- end }}
  # SIGTERM closes the delegates' streams; they reconnect to another replica
  terminationGracePeriodSeconds: 30
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if $replicated }}
  initContainers:
    # Every replica needs the same master.key and admin.key. The manager reads them only from its
    # data directory, owned by its user and mode 0600, which a mounted Secret is not.
    - name: keys
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command:
        - sh
        - -c
        - >-
          install -d -m 0700 /var/lib/tether/data &&
          install -m 0600 /etc/tether/keys/master.key /var/lib/tether/data/master.key &&
          install -m 0600 /etc/tether/keys/admin.key /var/lib/tether/data/admin.key
      volumeMounts:
        - name: data
          mountPath: /var/lib/tether
        - name: keys
          mountPath: /etc/tether/keys
          readOnly: true
      # fixed, not a value: the manager needs no privilege and writes only its volumes
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
  {{- end }}
  containers:
    - name: manager
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - serve
        # a directory of the volume, not its root: the manager refuses a data directory that
        # others may write to, and a volume's root is group-writable under fsGroup
        - --data-dir=/var/lib/tether/data
        - --listen=0.0.0.0:{{ .Values.ports.delegate }}
        - --admin-listen=0.0.0.0:{{ .Values.ports.admin }}
        - --ops-listen=0.0.0.0:{{ .Values.ports.ops }}
        {{- if .Values.tls.existingSecret }}
        - --tls-cert=/etc/tether/tls/tls.crt
        - --tls-key=/etc/tether/tls/tls.key
        {{- else }}
        - --tls-name={{ include "tether-manager.tlsNames" . }}
        {{- end }}
        {{- if $replicated }}
        - --db-url={{ .Values.database.url }}
        {{- end }}
        {{- range .Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        # admin commands run in the pod (kubectl exec) find the admin key and the CA here
        - name: TETHER_DATA_DIR
          value: /var/lib/tether/data
        - name: JAVA_TOOL_OPTIONS
          value: "-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
        {{- if $replicated }}
        - name: TETHER_DB_USER
          valueFrom:
            secretKeyRef:
              name: {{ .Values.database.existingSecret }}
              key: {{ .Values.database.userKey }}
        # the password as a file, never an environment variable's value
        - name: TETHER_DB_PASSWORD_FILE
          value: /etc/tether/db/password
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: delegate
          containerPort: {{ .Values.ports.delegate }}
          protocol: TCP
        - name: admin
          containerPort: {{ .Values.ports.admin }}
          protocol: TCP
        - name: ops
          containerPort: {{ .Values.ports.ops }}
          protocol: TCP
      # Ready while the delegate listener is up and the database answers; a 503 says why not.
      readinessProbe:
        httpGet:
          path: /readyz
          port: ops
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 3
      # Alive while the process serves. Not /readyz: a database outage is not helped by a restart.
      livenessProbe:
        httpGet:
          path: /healthz
          port: ops
        periodSeconds: 20
        timeoutSeconds: 5
        failureThreshold: 3
      # The first start creates the keys, the certificate and the schema (Flyway).
      startupProbe:
        httpGet:
          path: /healthz
          port: ops
        periodSeconds: 5
        failureThreshold: 60
      volumeMounts:
        - name: data
          mountPath: /var/lib/tether
        - name: tmp
          mountPath: /tmp
        {{- if $replicated }}
        - name: db
          mountPath: /etc/tether/db
          readOnly: true
        {{- end }}
        {{- if .Values.tls.existingSecret }}
        - name: tls
          mountPath: /etc/tether/tls
          readOnly: true
        {{- end }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      # fixed, not a value: the manager needs no privilege and writes only its volumes
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
  volumes:
    - name: tmp
      emptyDir: {}
    {{- if $replicated }}
    - name: data
      emptyDir: {}
    - name: keys
      secret:
        secretName: {{ .Values.keys.existingSecret }}
        defaultMode: 0400
        items:
          - key: master.key
            path: master.key
          - key: admin.key
            path: admin.key
    - name: db
      secret:
        secretName: {{ .Values.database.existingSecret }}
        defaultMode: 0400
        items:
          - key: {{ .Values.database.passwordKey }}
            path: password
    {{- end }}
    {{- if .Values.tls.existingSecret }}
    - name: tls
      secret:
        secretName: {{ .Values.tls.existingSecret }}
        defaultMode: 0400
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
