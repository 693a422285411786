package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// startupTimeout bounds each start-up check (brokers, registry, SNS topics),
// so that bad configuration fails in seconds with a reason, not never.
const startupTimeout = 15 * time.Second

// startService checks the configuration against this machine (the HTTP
// port, the schema files), then against the world (schema registry,
// brokers and source topics, AWS credentials and SNS topics, all at once),
// and builds the pipeline. Local checks come first so that a busy port or a
// missing file is found in milliseconds, not after every remote timeout.
// Each problem names the key to fix; independent ones are reported
// together.
func startService(ctx context.Context, s settings, log *slog.Logger, snsOpts ...sns.Option) (*service, error) {
	ln, src, err := checkLocal(s)
	if err != nil {
		return nil, err
	}
	client, topics, err := checkRemote(ctx, s, src)
	if err == nil {
		var svc *service
		if svc, err = assemble(ctx, s, src, client, topics, ln, log, snsOpts...); err == nil {
			return svc, nil
		}
	}
	_ = ln.Close() // nothing was served on it
	return nil, err
}

// checkLocal binds http.listen and builds the schema source (reading the
// local schema directory or the registry's TLS files).
func checkLocal(s settings) (net.Listener, avro.SchemaSource, error) {
	ln, lnErr := listen("http.listen", s.HTTP.Listen)
	src, srcErr := s.schemaSource()
	if err := errors.Join(lnErr, srcErr); err != nil {
		if ln != nil {
			_ = ln.Close()
		}
		return nil, nil, err
	}
	return ln, src, nil
}

// listen binds the HTTP address addr, set by key, saying plainly when
// another process has it.
func listen(key, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, problemf(key, "%s is in use by another process (another bridge?): stop it or choose another port", addr)
	case err != nil:
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err // "bind: cannot assign requested address", without the address again
		}
		return nil, problemf(key, "cannot listen on %s: %v", addr, err)
	}
	return ln, nil
}

// checkRemote runs the checks that need the network, at once, each bounded
// by startupTimeout: the schema registry answers, the brokers answer and
// hold the source topics, and SNS has every routed topic for the bridge's
// credentials. It returns the SNS client and what it learnt of the topics.
func checkRemote(ctx context.Context, s settings, src avro.SchemaSource) (*awssns.Client, map[string]sns.TopicInfo, error) {
	var (
		wg                                    sync.WaitGroup
		registryErr, kafkaErr, bucketErr, err error
		client                                *awssns.Client
		topics                                map[string]sns.TopicInfo
	)
	wg.Go(func() { registryErr = checkSchemaSource(ctx, s, src) })
	wg.Go(func() { kafkaErr = checkKafka(ctx, s) })
	wg.Go(func() { client, topics, err = checkTopics(ctx, s) })
	wg.Go(func() { bucketErr = checkBuckets(ctx, s) })
	wg.Wait()
	if err := errors.Join(registryErr, kafkaErr, err, bucketErr); err != nil {
		return nil, nil, err
	}
	return client, topics, nil
}

// checkSchemaSource asks a registry for an id that cannot exist: an answer
// (unknown schema) proves the URL, TLS and credentials work; no answer is a
// start-up error. A local directory needs no check.
func checkSchemaSource(ctx context.Context, s settings, src avro.SchemaSource) error {
	rs, ok := src.(*avro.RegistrySource)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	_, err := rs.Schema(ctx, 0)
	if err == nil || isUnknownSchema(err) {
		return nil
	}
	return problemf("schemas.registry_url", "%s does not answer: %v (check the URL, schemas.tls and schemas.username, and that the registry runs)",
		redactURL(s.Schemas.RegistryURL), rootCause(err))
}

// checkKafka checks that a broker answers and that every source topic
// exists, blaming kafka.brokers or kafka.topics as the case is.
func checkKafka(ctx context.Context, s settings) error {
	err := consumer.Ping(ctx, s.consumerConfig(), startupTimeout)
	if err == nil {
		return nil
	}
	brokers := strings.Join(s.Kafka.Brokers, ",")
	var errs []error
	for _, e := range leafErrors(err) {
		// consumer.Ping says "no broker answered ..." when the cluster
		// cannot be reached, and names each missing source topic.
		switch msg := e.Error(); {
		case strings.HasPrefix(msg, "source topic "):
			errs = append(errs, problemf("kafka.topics", "%s on %s (create it, correct kafka.topics, or grant the bridge Describe and Read on it)",
				strings.TrimPrefix(msg, "source "), brokers))
		case strings.HasPrefix(msg, "listing source topics"):
			errs = append(errs, problemf("kafka.topics", "%s on %s", msg, brokers))
		default:
			errs = append(errs, problemf("kafka.brokers", "%s: %s (check the addresses, that the brokers run, and kafka.tls and kafka.sasl)", brokers, msg))
		}
	}
	return errors.Join(errs...)
}

// credentialCodes are SNS answers about the caller, not the topic: said
// once, not once per routed topic.
var credentialCodes = map[string]bool{
	"InvalidClientTokenId": true, "SignatureDoesNotMatch": true, "UnrecognizedClientException": true,
	"ExpiredToken": true, "InvalidSecurity": true,
}

// checkTopics builds the SNS client, makes sure the AWS credential chain
// yields credentials, and reads every routed topic: each must exist and be
// permitted. Each unusable topic is one problem naming its route; a
// problem of SNS or the credentials as a whole is said once.
func checkTopics(ctx context.Context, s settings) (*awssns.Client, map[string]sns.TopicInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	client, err := s.snsClient(ctx)
	if err != nil {
		return nil, nil, problemf(s.credentialsPath(), "loading the AWS configuration: %v", err)
	}
	if creds := client.Options().Credentials; creds != nil {
		_, err := creds.Retrieve(ctx)
		switch {
		case err != nil && s.SNS.RoleARN != "":
			return nil, nil, problemf("sns.role_arn", "assuming %s failed: %v (the bridge's own AWS credentials need sts:AssumeRole on it, "+
				"and its trust policy must trust them, with sns.external_id when it asks for one)", s.SNS.RoleARN, rootCause(err))
		case err != nil:
			return nil, nil, problemf(s.credentialsPath(), "no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "+
				"a profile with AWS_PROFILE or sns.profile, or run with an IAM role): %v", err)
		}
	}
	topics := map[string]sns.TopicInfo{}
	var errs []error
	for _, arn := range s.Routing.TopicARNs() {
		info, err := sns.Topics(ctx, client, []string{arn})
		if err == nil {
			maps.Copy(topics, info)
			continue
		}
		fe := sns.Classify(err)
		switch {
		case credentialCodes[fe.Code]:
			return nil, nil, problemf(s.credentialsPath(), "AWS refused the bridge's credentials (%s): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or the profile", fe.Code)
		case !errors.Is(err, sns.ErrTopicUnusable):
			// SNS itself did not answer: one problem, whichever topic.
			return nil, nil, snsUnreachable(s, err)
		}
		routes := s.routesTo(arn)
		switch fe.Reason {
		case "topic_missing":
			errs = append(errs, problemf(routes, "SNS topic %s does not exist (create it, or correct the ARN)", arn))
		case "forbidden":
			errs = append(errs, problemf(routes, "the bridge's AWS identity may not use SNS topic %s (%s): allow it sns:GetTopicAttributes and sns:Publish", arn, fe.Code))
		default:
			errs = append(errs, problemf(routes, "%v", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return client, topics, nil
}

// credentialsPath is the key to blame for AWS credentials: sns.role_arn
// or sns.profile when one is set, else the sns section.
func (s settings) credentialsPath() string {
	if s.SNS.RoleARN != "" {
		return "sns.role_arn"
	}
	if s.SNS.Profile != "" {
		return "sns.profile"
	}
	return "sns"
}

// snsUnreachable is the problem of an SNS endpoint that does not answer.
func snsUnreachable(s settings, err error) error {
	if key, url := s.SNS.endpointKey(); key != "" {
		return problemf(key, "%s does not answer: %v (check the URL and that SNS runs there)", redactURL(url), rootCause(err))
	}
	return problemf("sns.region", "SNS in %q does not answer: %v (check the region and this host's route to AWS)", s.SNS.Region, rootCause(err))
}

// routesTo names the routing keys that send to arn:
// "routing.routes[1].topic_arn", or several joined by ", ".
func (s settings) routesTo(arn string) string {
	var paths []string
	for i, r := range s.Routing.Routes {
		if r.TopicARN == arn {
			paths = append(paths, fmt.Sprintf("routing.routes[%d].topic_arn", i))
		}
	}
	if s.Routing.DefaultTopicARN == arn {
		paths = append(paths, "routing.default_topic_arn")
	}
	if len(paths) == 0 {
		return "routing"
	}
	return strings.Join(paths, ", ")
}

// rootCause is the network error under err when there is one ("dial tcp
// 127.0.0.1:8081: connect: connection refused"): the part the operator can
// act on, without the layers of client wrapping above it.
func rootCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactURL hides a password in a URL's user info.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}
