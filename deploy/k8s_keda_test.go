package deploy

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const scramDir = "k8s-scram"

// kafkaTrigger returns the ScaledObject's one trigger and its metadata.
func kafkaTrigger(t *testing.T, so map[string]any) (trig, meta map[string]any) {
	t.Helper()
	trigs := list(obj(so, "spec"), "triggers")
	if len(trigs) != 1 {
		t.Fatalf("want one trigger, have %v", trigs)
	}
	trig = trigs[0].(map[string]any)
	return trig, obj(trig, "metadata")
}

// The KEDA trigger authenticates as the bridge does (MSK IAM over TLS),
// with the TriggerAuthentication of the base; it scales on lag that more
// replicas can work off (not a parked key's), and has a fallback within
// its bounds for when it cannot read the lag.
func TestK8sKEDATriggerAuthAndFallback(t *testing.T) {
	ms := loadManifests(t)
	so := one(t, ms, "ScaledObject")
	ta := one(t, ms, "TriggerAuthentication")
	trig, meta := kafkaTrigger(t, so)
	if got, want := str(trig, "authenticationRef", "name"), str(ta, "metadata", "name"); got == "" || got != want {
		t.Errorf("the trigger's authenticationRef is %q, the TriggerAuthentication %q", got, want)
	}
	cm := configMapConfig(t, ms)
	if str(cm, "kafka", "sasl", "mechanism") == "AWS_MSK_IAM" {
		if str(meta, "sasl") != "oauthbearer" || str(meta, "saslTokenProvider") != "aws_msk_iam" || str(meta, "tls") != "enable" || str(meta, "awsRegion") == "" {
			t.Errorf("the bridge uses AWS_MSK_IAM; the trigger has sasl %q, saslTokenProvider %q, tls %q, awsRegion %q",
				str(meta, "sasl"), str(meta, "saslTokenProvider"), str(meta, "tls"), str(meta, "awsRegion"))
		}
		if str(ta, "spec", "podIdentity", "provider") != "aws" {
			t.Errorf("MSK IAM needs podIdentity provider aws, have %v", obj(ta, "spec"))
		}
	}
	checkScalingOnWorkableLag(t, meta)

	spec := obj(so, "spec")
	fb := obj(spec, "fallback")
	if n := integer(fb, "failureThreshold"); n < 1 {
		t.Errorf("fallback.failureThreshold %d: want a fallback after a few failed polls", n)
	}
	if r := integer(fb, "replicas"); r < integer(spec, "minReplicaCount") || r > integer(spec, "maxReplicaCount") {
		t.Errorf("fallback.replicas %d outside [%d, %d]", r, integer(spec, "minReplicaCount"), integer(spec, "maxReplicaCount"))
	}
}

// checkScalingOnWorkableLag: lag that more replicas cannot work off (a
// parked key stills its partition's commit) does not scale, and replicas
// never exceed the partitions with lag. KEDA refuses limitToPartitionsWithLag
// together with allowIdleConsumers.
func checkScalingOnWorkableLag(t *testing.T, meta map[string]any) {
	t.Helper()
	if str(meta, "excludePersistentLag") != "true" || str(meta, "limitToPartitionsWithLag") != "true" {
		t.Errorf("excludePersistentLag %q, limitToPartitionsWithLag %q: want both true (docs/operations.md, Scaling)",
			str(meta, "excludePersistentLag"), str(meta, "limitToPartitionsWithLag"))
	}
	if str(meta, "allowIdleConsumers") == "true" {
		t.Error("allowIdleConsumers cannot be true with limitToPartitionsWithLag")
	}
}

// renderKustomize returns the documents kubectl kustomize renders from
// dir, or skips when kubectl is not installed.
func renderKustomize(t *testing.T, dir string) []manifest {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skipf("kubectl is not installed; %s was not rendered", dir)
	}
	out, err := exec.Command(kubectl, "kustomize", dir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var ms []manifest
	dec := yaml.NewDecoder(strings.NewReader(string(out)))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("kustomize output: %v", err)
		}
		ms = append(ms, manifest{file: dir, doc: doc})
	}
	return ms
}

// The SASL/SCRAM variant: the bridge and KEDA read one Secret, the env
// overrides name real configuration keys, and both use the same brokers,
// group and topic.
func TestK8sSCRAMVariant(t *testing.T) {
	// Without rendering: the files agree with each other.
	var ta, patch map[string]any
	readFile(t, filepath.Join(scramDir, "triggerauthentication.yaml"), &ta)
	readFile(t, filepath.Join(scramDir, "deployment-patch.yaml"), &patch)
	secrets := map[string]string{} // parameter -> secret/key
	for _, r := range list(obj(ta, "spec"), "secretTargetRef") {
		ref := r.(map[string]any)
		secrets[str(ref, "parameter")] = str(ref, "name") + "/" + str(ref, "key")
	}
	if secrets["username"] == "" || secrets["password"] == "" {
		t.Fatalf("the SCRAM TriggerAuthentication lacks username or password: %v", secrets)
	}
	keys := configKeys(repoConfigYAML(t), "")
	env := map[string]map[string]any{}
	for _, c := range list(obj(patch, "spec", "template", "spec"), "containers") {
		for _, e := range list(c.(map[string]any), "env") {
			em := e.(map[string]any)
			name := str(em, "name")
			env[name] = em
			if k, ok := strings.CutPrefix(name, "BRIDGE_"); ok && !keys[k] {
				t.Errorf("%s names no key of config.yaml", name)
			}
		}
	}
	fromSecret := func(name string) string {
		return str(env[name], "valueFrom", "secretKeyRef", "name") + "/" + str(env[name], "valueFrom", "secretKeyRef", "key")
	}
	if fromSecret("BRIDGE_KAFKA_SASL_USERNAME") != secrets["username"] || fromSecret("BRIDGE_KAFKA_SASL_PASSWORD") != secrets["password"] {
		t.Errorf("the bridge reads %s and %s, KEDA %s and %s: they must authenticate alike",
			fromSecret("BRIDGE_KAFKA_SASL_USERNAME"), fromSecret("BRIDGE_KAFKA_SASL_PASSWORD"), secrets["username"], secrets["password"])
	}
	if m := str(env["BRIDGE_KAFKA_SASL_MECHANISM"], "value"); !strings.HasPrefix(m, "SCRAM-SHA-") {
		t.Errorf("BRIDGE_KAFKA_SASL_MECHANISM %q, want SCRAM", m)
	}

	// Rendered: the variant's ScaledObject matches what its bridge runs.
	ms := renderKustomize(t, scramDir)
	so := one(t, ms, "ScaledObject")
	trig, meta := kafkaTrigger(t, so)
	rta := one(t, ms, "TriggerAuthentication")
	if str(trig, "authenticationRef", "name") != str(rta, "metadata", "name") {
		t.Errorf("the trigger uses %q, the variant has TriggerAuthentication %q", str(trig, "authenticationRef", "name"), str(rta, "metadata", "name"))
	}
	mech := strings.ToLower(strings.ReplaceAll(str(env["BRIDGE_KAFKA_SASL_MECHANISM"], "value"), "-", "_"))
	if str(meta, "sasl") != strings.Replace(mech, "scram_sha_", "scram_sha", 1) || str(meta, "tls") != "enable" {
		t.Errorf("trigger sasl %q tls %q; the bridge uses %s over TLS", str(meta, "sasl"), str(meta, "tls"), mech)
	}
	_, c := bridgeContainer(t, ms)
	renderedEnv := containerEnv(c)
	if str(meta, "bootstrapServers") != renderedEnv["BRIDGE_KAFKA_BROKERS"] {
		t.Errorf("trigger bootstrapServers %q, the bridge's BRIDGE_KAFKA_BROKERS %q", str(meta, "bootstrapServers"), renderedEnv["BRIDGE_KAFKA_BROKERS"])
	}
	if renderedEnv["BRIDGE_HTTP_LISTEN"] == "" {
		t.Error("the patch dropped the base's environment (BRIDGE_HTTP_LISTEN)")
	}
	cm := configMapConfig(t, ms)
	if str(meta, "consumerGroup") != str(cm, "kafka", "group_id") || str(meta, "topic") != fmt.Sprint(list(obj(cm, "kafka"), "topics")[0]) {
		t.Errorf("trigger group %q topic %q; the bridge's %q %v", str(meta, "consumerGroup"), str(meta, "topic"), str(cm, "kafka", "group_id"), list(obj(cm, "kafka"), "topics"))
	}
	checkScalingOnWorkableLag(t, meta)
}
