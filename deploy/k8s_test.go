package deploy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const k8sDir = "k8s"

// wantKinds are the manifests in deploy/k8s and their API versions.
var wantKinds = map[string]string{
	"Kustomization":         "kustomize.config.k8s.io/v1beta1",
	"ServiceAccount":        "v1",
	"ConfigMap":             "v1",
	"Deployment":            "apps/v1",
	"Service":               "v1",
	"PodDisruptionBudget":   "policy/v1",
	"ScaledObject":          "keda.sh/v1alpha1",
	"TriggerAuthentication": "keda.sh/v1alpha1",
}

// manifest is one YAML document, generic, with the file it came from.
type manifest struct {
	file string
	doc  map[string]any
}

func (m manifest) kind() string { return str(m.doc, "kind") }

// loadManifests parses every YAML document of every file in deploy/k8s.
func loadManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s (%v)", k8sDir, err)
	}
	var out []manifest
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s is not valid YAML: %v", f, err)
			}
			if doc == nil {
				continue
			}
			out = append(out, manifest{file: filepath.Base(f), doc: doc})
		}
	}
	return out
}

// one returns the only manifest of a kind.
func one(t *testing.T, ms []manifest, kind string) map[string]any {
	t.Helper()
	var found []manifest
	for _, m := range ms {
		if m.kind() == kind {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s in %s, have %d", kind, k8sDir, len(found))
	}
	return found[0].doc
}

func TestK8sKindsAndAPIVersions(t *testing.T) {
	ms := loadManifests(t)
	seen := map[string]int{}
	for _, m := range ms {
		kind := m.kind()
		want, ok := wantKinds[kind]
		if !ok {
			t.Errorf("%s: unexpected kind %q", m.file, kind)
			continue
		}
		seen[kind]++
		if got := str(m.doc, "apiVersion"); got != want {
			t.Errorf("%s: %s has apiVersion %q, want %q", m.file, kind, got, want)
		}
		if kind != "Kustomization" && str(m.doc, "metadata", "name") == "" {
			t.Errorf("%s: %s has no metadata.name", m.file, kind)
		}
	}
	for kind := range wantKinds {
		if seen[kind] != 1 {
			t.Errorf("want one %s, have %d", kind, seen[kind])
		}
	}

	// kustomization.yaml lists every other file, and only existing ones.
	k := one(t, ms, "Kustomization")
	var listed []string
	for _, r := range list(k, "resources") {
		listed = append(listed, fmt.Sprint(r))
	}
	files, _ := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	for _, f := range files {
		b := filepath.Base(f)
		if b != "kustomization.yaml" && !slices.Contains(listed, b) {
			t.Errorf("kustomization.yaml does not list %s", b)
		}
	}
	for _, r := range listed {
		if _, err := os.Stat(filepath.Join(k8sDir, r)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", r, err)
		}
	}
}

// bridgeContainer returns the Deployment's pod spec and its bridge container.
func bridgeContainer(t *testing.T, ms []manifest) (pod, c map[string]any) {
	t.Helper()
	d := one(t, ms, "Deployment")
	pod = obj(d, "spec", "template", "spec")
	cs := list(pod, "containers")
	if len(cs) != 1 {
		t.Fatalf("Deployment: want one container, have %d", len(cs))
	}
	return pod, cs[0].(map[string]any)
}

func TestK8sDeploymentProbesAndPort(t *testing.T) {
	ms := loadManifests(t)
	_, c := bridgeContainer(t, ms)
	ports := map[string]int{}
	for _, p := range list(c, "ports") {
		p := p.(map[string]any)
		ports[str(p, "name")] = integer(p, "containerPort")
	}
	env := containerEnv(c)
	_, listenPort, err := net.SplitHostPort(env["BRIDGE_HTTP_LISTEN"])
	if err != nil {
		t.Fatalf("BRIDGE_HTTP_LISTEN %q: %v", env["BRIDGE_HTTP_LISTEN"], err)
	}
	if host, _, _ := net.SplitHostPort(env["BRIDGE_HTTP_LISTEN"]); host != "0.0.0.0" {
		t.Errorf("BRIDGE_HTTP_LISTEN = %q: the probes and Prometheus reach the pod's IP, not its loopback", env["BRIDGE_HTTP_LISTEN"])
	}
	for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"} {
		get := obj(c, probe, "httpGet")
		if get == nil {
			t.Errorf("%s: no httpGet", probe)
			continue
		}
		if got := str(get, "path"); got != path {
			t.Errorf("%s: path %q, want %q", probe, got, path)
		}
		port := fmt.Sprint(get["port"])
		if n, ok := ports[port]; ok {
			port = strconv.Itoa(n)
		}
		if port != listenPort {
			t.Errorf("%s: port %s is not the bridge's http port %s", probe, port, listenPort)
		}
	}
	svc := one(t, ms, "Service")
	for _, p := range list(obj(svc, "spec"), "ports") {
		tp := fmt.Sprint(p.(map[string]any)["targetPort"])
		if _, named := ports[tp]; !named && tp != listenPort {
			t.Errorf("Service targets port %s, which the container does not expose", tp)
		}
	}
}

func TestK8sDeploymentRunsLocked(t *testing.T) {
	ms := loadManifests(t)
	pod, c := bridgeContainer(t, ms)
	if b, _ := obj(pod, "securityContext")["runAsNonRoot"].(bool); !b {
		t.Error("pod securityContext.runAsNonRoot must be true")
	}
	sc := obj(c, "securityContext")
	if b, _ := sc["readOnlyRootFilesystem"].(bool); !b {
		t.Error("container securityContext.readOnlyRootFilesystem must be true")
	}
	if b, ok := sc["allowPrivilegeEscalation"].(bool); !ok || b {
		t.Error("container securityContext.allowPrivilegeEscalation must be false")
	}
	if drop := list(obj(sc, "capabilities"), "drop"); !slices.Contains(drop, any("ALL")) {
		t.Error("container capabilities must drop ALL")
	}

	res := obj(c, "resources")
	for _, r := range []string{"cpu", "memory"} {
		req, lim := str(res, "requests", r), str(res, "limits", r)
		if req == "" || lim == "" {
			t.Errorf("resources: %s needs a request and a limit (have %q, %q)", r, req, lim)
			continue
		}
		if quantity(t, req) > quantity(t, lim) {
			t.Errorf("resources: %s request %s is above its limit %s", r, req, lim)
		}
	}
	// GOMEMLIMIT below the memory limit, or the runtime is OOM-killed
	// before it collects hard.
	if gml := containerEnv(c)["GOMEMLIMIT"]; gml != "" {
		if quantity(t, strings.TrimSuffix(gml, "B")) >= quantity(t, str(res, "limits", "memory")) {
			t.Errorf("GOMEMLIMIT %s is not below the memory limit %s", gml, str(res, "limits", "memory"))
		}
	}

	sa := one(t, ms, "ServiceAccount")
	if str(pod, "serviceAccountName") != str(sa, "metadata", "name") {
		t.Errorf("the pod runs as %q, not the ServiceAccount %q", str(pod, "serviceAccountName"), str(sa, "metadata", "name"))
	}
	if str(sa, "metadata", "annotations", "eks.amazonaws.com/role-arn") == "" {
		t.Error("ServiceAccount has no eks.amazonaws.com/role-arn annotation (IRSA)")
	}
}

// The kubelet sends SIGKILL terminationGracePeriodSeconds after SIGTERM; the
// bridge needs shutdown_timeout to drain, commit and leave the group.
func TestK8sGracePeriodCoversShutdown(t *testing.T) {
	ms := loadManifests(t)
	pod, _ := bridgeContainer(t, ms)
	grace := time.Duration(integer(pod, "terminationGracePeriodSeconds")) * time.Second

	repoConfig := repoConfigYAML(t)
	for name, cfg := range map[string]map[string]any{
		"config.yaml":         repoConfig,
		"the ConfigMap's one": configMapConfig(t, ms),
	} {
		raw := str(cfg, "shutdown_timeout")
		if raw == "" {
			continue // the default, which config.yaml states
		}
		d, err := time.ParseDuration(raw)
		if err != nil {
			t.Fatalf("%s: shutdown_timeout %q: %v", name, raw, err)
		}
		if grace <= d {
			t.Errorf("terminationGracePeriodSeconds %s is not longer than %s's shutdown_timeout %s", grace, name, d)
		}
	}
	if str(repoConfig, "shutdown_timeout") == "" {
		t.Error("config.yaml states no shutdown_timeout")
	}
}

func TestK8sEnvAndConfigMatchConfigKeys(t *testing.T) {
	ms := loadManifests(t)
	keys := configKeys(repoConfigYAML(t), "")
	if len(keys) < 20 {
		t.Fatalf("config.yaml yields only %d keys", len(keys))
	}
	_, c := bridgeContainer(t, ms)
	env := containerEnv(c)
	for name := range env {
		if rest, ok := strings.CutPrefix(name, "BRIDGE_"); ok && !keys[rest] {
			t.Errorf("env %s matches no key of config.yaml, so the bridge ignores it", name)
		}
	}
	for _, name := range []string{"AWS_SNS_TICKET_TOPIC_ARN", "AWS_SNS_CUSTOM_OBJECT_TOPIC_ARN", "BRIDGE_HTTP_LISTEN"} {
		if _, ok := env[name]; !ok {
			t.Errorf("env %s is not set", name)
		}
	}
	// Static membership under the pod's name: the name survives a container
	// restart, so a crashed replica gets its partitions back at once, and it
	// is unique among the replicas (two members under one id fence each
	// other). The bridge leaves the group on SIGTERM, so a rollout's new
	// names strand nothing.
	if podName := envFrom(c, "POD_NAME"); podName != "metadata.name" {
		t.Errorf("env POD_NAME comes from %q, want the downward API's metadata.name", podName)
	}
	if _, ok := env["BRIDGE_KAFKA_INSTANCE_ID"]; ok {
		t.Error("BRIDGE_KAFKA_INSTANCE_ID is set: it overrides the ConfigMap's instance_id ${POD_NAME}")
	}

	// The ConfigMap's file: known keys only (an unknown key stops start-up),
	// and every ${VAR} without a default is set on the container.
	cm := configMapConfig(t, ms)
	for k := range configKeys(cm, "") {
		if !keys[k] && !strings.HasPrefix(k, "ROUTING_ROUTES") {
			t.Errorf("the ConfigMap's config.yaml has key %s, which config.yaml does not", strings.ToLower(k))
		}
	}
	raw := str(one(t, ms, "ConfigMap"), "data", "config.yaml")
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`).FindAllStringSubmatch(raw, -1) {
		if _, set := env[m[1]]; !set && m[2] == "" {
			t.Errorf("the ConfigMap's config.yaml needs ${%s}, which the container does not set", m[1])
		}
	}
	if got := str(cm, "kafka", "instance_id"); got != "${POD_NAME}" {
		t.Errorf("the ConfigMap's kafka.instance_id is %q, want ${POD_NAME}", got)
	}
	if str(cm, "http", "listen") != "" && str(cm, "http", "listen") != env["BRIDGE_HTTP_LISTEN"] {
		t.Errorf("the ConfigMap's http.listen %q differs from BRIDGE_HTTP_LISTEN %q", str(cm, "http", "listen"), env["BRIDGE_HTTP_LISTEN"])
	}
	// The config is mounted where the container's args read it.
	args := fmt.Sprint(list(c, "args"))
	if !strings.Contains(args, "/etc/bridge/config.yaml") {
		t.Errorf("args %s do not read /etc/bridge/config.yaml", args)
	}
}

// In compose the bridge must listen beyond loopback too, or Prometheus (in
// another container) cannot scrape it.
func TestComposeBridgeListensOnAllInterfaces(t *testing.T) {
	c := loadCompose(t)
	listen := c.Services["bridge"].Environment["BRIDGE_HTTP_LISTEN"]
	if host, _, err := net.SplitHostPort(listen); err != nil || host != "0.0.0.0" {
		t.Errorf("compose bridge: BRIDGE_HTTP_LISTEN = %q, want 0.0.0.0:PORT", listen)
	}
	keys := configKeys(repoConfigYAML(t), "")
	for name := range c.Services["bridge"].Environment {
		if rest, ok := strings.CutPrefix(name, "BRIDGE_"); ok && !keys[rest] {
			t.Errorf("compose bridge: env %s matches no key of config.yaml", name)
		}
	}
}

func TestK8sScaledObject(t *testing.T) {
	ms := loadManifests(t)
	so := one(t, ms, "ScaledObject")
	d := one(t, ms, "Deployment")
	spec := obj(so, "spec")
	if str(spec, "scaleTargetRef", "name") != str(d, "metadata", "name") {
		t.Errorf("ScaledObject scales %q, not the Deployment %q", str(spec, "scaleTargetRef", "name"), str(d, "metadata", "name"))
	}
	if _, set := obj(d, "spec")["replicas"]; set {
		t.Error("Deployment sets replicas, which fights the ScaledObject's HPA on every apply")
	}
	partitions, err := strconv.Atoi(str(so, "metadata", "annotations", "kafka-sns-bridge.thena.ai/source-partitions"))
	if err != nil || partitions < 1 {
		t.Fatalf("ScaledObject: annotation kafka-sns-bridge.thena.ai/source-partitions must state the partition count: %v", err)
	}
	lo, hi := integer(spec, "minReplicaCount"), integer(spec, "maxReplicaCount")
	if hi > partitions {
		t.Errorf("maxReplicaCount %d is above the source topic's %d partitions: the extra replicas would idle", hi, partitions)
	}
	if lo < 1 || lo > hi {
		t.Errorf("minReplicaCount %d must be between 1 and maxReplicaCount %d", lo, hi)
	}

	trig := list(spec, "triggers")
	if len(trig) != 1 || str(trig[0].(map[string]any), "type") != "kafka" {
		t.Fatalf("want one kafka trigger, have %v", trig)
	}
	meta := obj(trig[0].(map[string]any), "metadata")
	if n, err := strconv.Atoi(str(meta, "lagThreshold")); err != nil || n <= 0 {
		t.Errorf("lagThreshold %q must be a positive integer", str(meta, "lagThreshold"))
	}
	if str(meta, "allowIdleConsumers") == "true" {
		t.Error("allowIdleConsumers: true would scale past the partition count")
	}
	cm := configMapConfig(t, ms)
	if got, want := str(meta, "consumerGroup"), str(cm, "kafka", "group_id"); got != want {
		t.Errorf("the trigger watches group %q, the bridge joins %q", got, want)
	}
	topics := list(obj(cm, "kafka"), "topics")
	if len(topics) != 1 || str(meta, "topic") != fmt.Sprint(topics[0]) {
		t.Errorf("the trigger watches topic %q, the bridge consumes %v", str(meta, "topic"), topics)
	}
	brokers := list(obj(cm, "kafka"), "brokers")
	var bs []string
	for _, b := range brokers {
		bs = append(bs, fmt.Sprint(b))
	}
	if str(meta, "bootstrapServers") != strings.Join(bs, ",") {
		t.Errorf("the trigger's bootstrapServers %q differ from the bridge's brokers %v", str(meta, "bootstrapServers"), bs)
	}
}

func TestK8sDisruptionBudgetAndService(t *testing.T) {
	ms := loadManifests(t)
	d := one(t, ms, "Deployment")
	podLabels := obj(d, "spec", "template", "metadata", "labels")
	pdb := one(t, ms, "PodDisruptionBudget")
	if integer(obj(pdb, "spec"), "maxUnavailable") != 1 {
		t.Errorf("PodDisruptionBudget maxUnavailable = %v, want 1", obj(pdb, "spec")["maxUnavailable"])
	}
	for name, sel := range map[string]map[string]any{
		"PodDisruptionBudget": obj(pdb, "spec", "selector", "matchLabels"),
		"Service":             obj(one(t, ms, "Service"), "spec", "selector"),
		"Deployment selector": obj(d, "spec", "selector", "matchLabels"),
	} {
		if len(sel) == 0 {
			t.Errorf("%s selects nothing", name)
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("%s selects %s=%v, which the pods do not carry", name, k, v)
			}
		}
	}
}

// repoConfigYAML parses the repository's config.yaml as a generic map.
func repoConfigYAML(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	readFile(t, filepath.Join("..", "config.yaml"), &m)
	return m
}

// configMapConfig parses the config.yaml the ConfigMap carries.
func configMapConfig(t *testing.T, ms []manifest) map[string]any {
	t.Helper()
	raw := str(one(t, ms, "ConfigMap"), "data", "config.yaml")
	if raw == "" {
		t.Fatal("the ConfigMap has no data.config.yaml")
	}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("the ConfigMap's config.yaml: %v", err)
	}
	return m
}

// configKeys returns the paths of a config map's leaves the way the bridge
// names their environment overrides: upper case, "_" between keys
// (kafka.instance_id -> KAFKA_INSTANCE_ID). Lists are leaves.
func configKeys(m map[string]any, prefix string) map[string]bool {
	out := map[string]bool{}
	for k, v := range m {
		name := strings.ToUpper(k)
		if prefix != "" {
			name = prefix + "_" + name
		}
		if sub, ok := v.(map[string]any); ok {
			for s := range configKeys(sub, name) {
				out[s] = true
			}
			continue
		}
		out[name] = true
	}
	return out
}

// envFrom returns the downward API field an env entry of c takes its value
// from, "" if it has none.
func envFrom(c map[string]any, name string) string {
	for _, e := range list(c, "env") {
		e := e.(map[string]any)
		if str(e, "name") == name {
			return str(e, "valueFrom", "fieldRef", "fieldPath")
		}
	}
	return ""
}

func containerEnv(c map[string]any) map[string]string {
	env := map[string]string{}
	for _, e := range list(c, "env") {
		e := e.(map[string]any)
		env[str(e, "name")] = str(e, "value")
	}
	return env
}

// quantity parses the Kubernetes quantities these manifests use (500m, 2,
// 512Mi, 1Gi, 900Mi) into a comparable number.
func quantity(t *testing.T, q string) float64 {
	t.Helper()
	units := []struct {
		suffix string
		mult   float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"m", 1e-3}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(q, u.suffix); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				t.Fatalf("quantity %q: %v", q, err)
			}
			return f * u.mult
		}
	}
	f, err := strconv.ParseFloat(q, 64)
	if err != nil {
		t.Fatalf("quantity %q: %v", q, err)
	}
	return f
}

// obj walks nested maps; a missing step gives nil.
func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		next, _ := m[p].(map[string]any)
		m = next
	}
	return m
}

func str(m map[string]any, path ...string) string {
	v, ok := obj(m, path[:len(path)-1]...)[path[len(path)-1]]
	if !ok || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func list(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

func integer(m map[string]any, key string) int {
	n, _ := m[key].(int)
	return n
}

// TestDockerfileMatchesManifests: the image runs as non-root on distroless,
// has no HEALTHCHECK (no shell to run it), exposes the port the manifests
// probe, and reads its config where the ConfigMap is mounted.
func TestDockerfileMatchesManifests(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var from, user, expose, cmd string
	args := map[string]string{} // ARG defaults before the first FROM: the base images
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "ARG":
			if name, def, ok := strings.Cut(f[1], "="); ok && from == "" {
				args[name] = def
			}
		case "FROM":
			from = os.Expand(f[1], func(name string) string { return args[name] })
			user = "" // USER applies per stage
		case "USER":
			user = f[1]
		case "EXPOSE":
			expose = f[1]
		case "CMD":
			cmd = strings.Join(f[1:], " ")
		case "HEALTHCHECK":
			t.Error("Dockerfile has a HEALTHCHECK, which distroless cannot run (no shell)")
		}
	}
	if !strings.HasPrefix(from, "gcr.io/distroless/") || !strings.HasSuffix(from, ":nonroot") {
		t.Errorf("final stage is %q, want a distroless :nonroot image", from)
	}
	if user == "" || strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0") {
		t.Errorf("final stage runs as %q, want a non-root user", user)
	}
	ms := loadManifests(t)
	_, c := bridgeContainer(t, ms)
	_, port, _ := net.SplitHostPort(containerEnv(c)["BRIDGE_HTTP_LISTEN"])
	if expose != port {
		t.Errorf("Dockerfile exposes %s, the manifests use %s", expose, port)
	}
	if !strings.Contains(cmd, "/etc/bridge/config.yaml") {
		t.Errorf("Dockerfile CMD %s does not read /etc/bridge/config.yaml, where the ConfigMap is mounted", cmd)
	}
	mounted := false
	for _, m := range list(c, "volumeMounts") {
		mounted = mounted || str(m.(map[string]any), "mountPath") == "/etc/bridge"
	}
	if !mounted {
		t.Error("the ConfigMap is not mounted at /etc/bridge")
	}
}

// TestK8sKustomizeBuilds renders deploy/k8s with kubectl's kustomize when
// kubectl is installed: the kustomization is valid and the image is set.
func TestK8sKustomizeBuilds(t *testing.T) {
	kinds := map[string]bool{}
	for _, m := range renderKustomize(t, k8sDir) {
		kinds[m.kind()] = true
		if m.kind() == "Deployment" {
			_, c := bridgeContainer(t, []manifest{m})
			if img := str(c, "image"); !strings.Contains(img, ":") {
				t.Errorf("rendered image %q has no tag: kustomization.yaml's images entry does not apply", img)
			}
		}
	}
	for kind := range wantKinds {
		if kind != "Kustomization" && !kinds[kind] {
			t.Errorf("kustomize output has no %s", kind)
		}
	}
}
