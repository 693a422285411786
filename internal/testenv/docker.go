package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Images for the Docker fallback. They mirror scripts/stack.sh: Kafka 4.1.1 in KRaft mode, moto
// (the tag docker-compose.yml uses), and Apicurio Registry 3, whose image stores in memory by
// default.
const (
	kafkaImage    = "apache/kafka:4.1.1"
	motoImage     = "motoserver/moto:5.1.18"
	registryImage = "apicurio/apicurio-registry:3.3.3"

	// containerLabel marks the containers this package starts, so they can be found and removed
	// (docker rm -f $(docker ps -aq --filter label=kafka-sns-bridge.testenv)) after a test binary
	// that did not call Main, or was killed.
	containerLabel = "kafka-sns-bridge.testenv"
)

// Environment variables that name other images (repository:tag) for the Docker fallback: where
// none can be pulled, the ones scripts/docker/docker.sh builds, as `scripts/docker/docker.sh env`
// prints them. Each must take the configuration the default image takes (KAFKA_* variables,
// MOTO_PORT, QUARKUS_* variables).
const (
	EnvKafkaImage    = "BRIDGE_TEST_DOCKER_KAFKA_IMAGE"
	EnvMotoImage     = "BRIDGE_TEST_DOCKER_MOTO_IMAGE"
	EnvRegistryImage = "BRIDGE_TEST_DOCKER_REGISTRY_IMAGE"
)

var docker struct {
	once sync.Once
	pool *dockertest.Pool
	err  error

	mu        sync.Mutex
	addrs     map[string]string // env var name -> address of its started container
	errs      map[string]error
	resources []*dockertest.Resource
}

// dockerAvailable reports whether a Docker daemon answers, asking it once per test binary.
func dockerAvailable() error {
	docker.once.Do(func() {
		pool, err := dockertest.NewPool("")
		if err == nil {
			err = pool.Client.Ping()
		}
		if err != nil {
			docker.err = err
			return
		}
		pool.MaxWait = 2 * time.Minute
		docker.pool = pool
	})
	return docker.err
}

// dockerService starts the container for env once per test binary; later calls, and calls after a
// failed start, return the first outcome.
func dockerService(env string, start func() (string, error)) (string, error) {
	docker.mu.Lock()
	defer docker.mu.Unlock()
	if addr, ok := docker.addrs[env]; ok {
		return addr, nil
	}
	if err, ok := docker.errs[env]; ok {
		return "", err
	}
	if docker.addrs == nil {
		docker.addrs, docker.errs = map[string]string{}, map[string]error{}
	}
	addr, err := start()
	if err != nil {
		docker.errs[env] = err
		return "", err
	}
	docker.addrs[env] = addr
	return addr, nil
}

// Main runs the tests of a package and then removes the containers the Docker fallback started
// and the bridge binary BridgeBinary built. Use it from TestMain when a package's tests may run
// without the local stack, or start the bridge:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Without it the containers run on until removed (their label is kafka-sns-bridge.testenv);
// scripts/docker/docker.sh down removes every container of the daemon it started.
func Main(m *testing.M) {
	code := m.Run()
	removeBridgeBinary()
	docker.mu.Lock()
	for _, r := range docker.resources {
		if err := docker.pool.Purge(r); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: removing container %s: %v\n", r.Container.Name, err)
		}
	}
	docker.mu.Unlock()
	os.Exit(code)
}

// run starts a container of image (repository:tag) on the host's network, as every container here
// runs: it listens on the loopback ports its options name, chosen free beforehand, and no bridge
// network or port mapping is involved.
func run(image string, opts *dockertest.RunOptions) (*dockertest.Resource, error) {
	repo, tag, ok := strings.Cut(image, ":")
	if !ok || repo == "" || tag == "" || strings.Contains(tag, "/") {
		return nil, fmt.Errorf("image %q: want repository:tag", image)
	}
	opts.Repository, opts.Tag = repo, tag
	opts.Labels = map[string]string{containerLabel: "1"}
	r, err := docker.pool.RunWithOptions(opts, func(hc *dc.HostConfig) {
		hc.NetworkMode = "host"
		hc.AutoRemove = true
		hc.RestartPolicy = dc.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", image, err)
	}
	docker.resources = append(docker.resources, r)
	return r, nil
}

// image returns the image named by the environment variable env, else def.
func image(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func dockerKafka() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	controller, err := freePort()
	if err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	voter := fmt.Sprintf("1@127.0.0.1:%d", controller)
	// The apache/kafka image (and scripts/docker's, which does the same) takes its whole
	// configuration from KAFKA_* variables once any is set; these match scripts/stack.sh's single
	// node.
	_, err = run(image(EnvKafkaImage, kafkaImage), &dockertest.RunOptions{
		Env: []string{
			"KAFKA_NODE_ID=1",
			"KAFKA_PROCESS_ROLES=broker,controller",
			fmt.Sprintf("KAFKA_LISTENERS=PLAINTEXT://%s,CONTROLLER://127.0.0.1:%d", addr, controller),
			"KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://" + addr,
			"KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER",
			"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
			"KAFKA_CONTROLLER_QUORUM_VOTERS=" + voter,
			"KAFKA_AUTO_CREATE_TOPICS_ENABLE=false",
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1",
			"KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS=10",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=1",
			"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR=1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR=1",
			"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0",
			"KAFKA_HEAP_OPTS=-Xmx512m -Xms256m",
		},
	})
	if err != nil {
		return "", err
	}
	err = docker.pool.Retry(func() error {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
		if err != nil {
			return err
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return cl.Ping(ctx)
	})
	if err != nil {
		return "", fmt.Errorf("kafka container not ready: %w", err)
	}
	return addr, nil
}

func dockerMoto() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	// MOTO_PORT is the port; the -H after the image's own -H 0.0.0.0 keeps it on loopback.
	_, err = run(image(EnvMotoImage, motoImage), &dockertest.RunOptions{
		Env: []string{fmt.Sprintf("MOTO_PORT=%d", port)},
		Cmd: []string{"-H", "127.0.0.1"},
	})
	if err != nil {
		return "", err
	}
	return awaitHTTP("moto", fmt.Sprintf("http://127.0.0.1:%d", port), "/moto-api/")
}

func dockerRegistry() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	management, err := freePort()
	if err != nil {
		return "", err
	}
	// Quarkus reads its listeners from the environment; the management interface (health,
	// metrics) would take 0.0.0.0:9000 otherwise.
	_, err = run(image(EnvRegistryImage, registryImage), &dockertest.RunOptions{
		Env: []string{
			"QUARKUS_HTTP_HOST=127.0.0.1",
			fmt.Sprintf("QUARKUS_HTTP_PORT=%d", port),
			"QUARKUS_MANAGEMENT_HOST=127.0.0.1",
			fmt.Sprintf("QUARKUS_MANAGEMENT_PORT=%d", management),
		},
	})
	if err != nil {
		return "", err
	}
	return awaitHTTP("registry", fmt.Sprintf("http://127.0.0.1:%d/apis/ccompat/v7", port), "/subjects")
}

// awaitHTTP returns base once base+probe answers 200.
func awaitHTTP(name, base, probe string) (string, error) {
	if err := docker.pool.Retry(func() error { return httpOK(base + probe) }); err != nil {
		return "", fmt.Errorf("%s container not ready: %w", name, err)
	}
	return base, nil
}

func httpOK(url string) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
