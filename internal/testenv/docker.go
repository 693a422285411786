package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
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
	kafkaImage    = "apache/kafka"
	kafkaTag      = "4.1.1"
	motoImage     = "motoserver/moto"
	motoTag       = "5.1.18"
	registryImage = "apicurio/apicurio-registry"
	registryTag   = "3.3.3"

	// containerLifetime bounds how long a container outlives a test binary that did not call Main
	// (or was killed): Docker removes it after this many seconds.
	containerLifetime = 30 * 60
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
// Without it the containers remove themselves after 30 minutes.
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

// run starts a container with containerPort published on a loopback port chosen beforehand, so
// the service can be told its outside address (Kafka advertises it to clients).
func run(opts *dockertest.RunOptions, containerPort string, hostPort int) (*dockertest.Resource, error) {
	opts.PortBindings = map[dc.Port][]dc.PortBinding{
		dc.Port(containerPort): {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(hostPort)}},
	}
	opts.ExposedPorts = []string{containerPort}
	r, err := docker.pool.RunWithOptions(opts, func(hc *dc.HostConfig) {
		hc.AutoRemove = true
		hc.RestartPolicy = dc.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return nil, fmt.Errorf("starting %s:%s: %w", opts.Repository, opts.Tag, err)
	}
	docker.resources = append(docker.resources, r)
	if err := r.Expire(containerLifetime); err != nil {
		return nil, fmt.Errorf("setting expiry of %s: %w", opts.Repository, err)
	}
	return r, nil
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
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// The apache/kafka image takes its whole configuration from KAFKA_* variables once any is
	// set; these match scripts/stack.sh's single node.
	_, err = run(&dockertest.RunOptions{
		Repository: kafkaImage,
		Tag:        kafkaTag,
		Env: []string{
			"KAFKA_NODE_ID=1",
			"KAFKA_PROCESS_ROLES=broker,controller",
			"KAFKA_LISTENERS=PLAINTEXT://0.0.0.0:9092,CONTROLLER://localhost:9093",
			"KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://" + addr,
			"KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER",
			"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
			"KAFKA_CONTROLLER_QUORUM_VOTERS=1@localhost:9093",
			"KAFKA_AUTO_CREATE_TOPICS_ENABLE=false",
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1",
			"KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS=10",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=1",
			"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR=1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR=1",
			"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0",
		},
	}, "9092/tcp", port)
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
	return dockerHTTP("moto", motoImage, motoTag, "5000/tcp", "", "/moto-api/data.json")
}

func dockerRegistry() (string, error) {
	return dockerHTTP("registry", registryImage, registryTag, "8080/tcp", "/apis/ccompat/v7", "/subjects")
}

// dockerHTTP starts an HTTP service's container with containerPort on a free loopback port and
// returns its base URL (http://127.0.0.1:PORT plus basePath) once basePath+probe answers 200.
func dockerHTTP(name, image, tag, containerPort, basePath, probe string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	if _, err := run(&dockertest.RunOptions{Repository: image, Tag: tag}, containerPort, port); err != nil {
		return "", err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, basePath)
	if err := docker.pool.Retry(func() error { return httpOK(url + probe) }); err != nil {
		return "", fmt.Errorf("%s container not ready: %w", name, err)
	}
	return url, nil
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
