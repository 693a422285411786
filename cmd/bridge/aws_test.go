package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
)

// awsDouble answers STS AssumeRole and SNS GetTopicAttributes on one
// loopback server, recording each request's form and signing key.
type awsDouble struct {
	*httptest.Server
	refuse bool // answer AssumeRole with AccessDenied

	mu    sync.Mutex
	calls []awsCall
}

type awsCall struct {
	form       url.Values
	credential string // the access key the request was signed with
	token      string // X-Amz-Security-Token
}

func newAWSDouble(t *testing.T) *awsDouble {
	d := &awsDouble{}
	d.Server = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.Close)
	return d
}

func (d *awsDouble) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	_, signed, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	cred, _, _ := strings.Cut(signed, "/")
	d.mu.Lock()
	d.calls = append(d.calls, awsCall{form: form, credential: cred, token: r.Header.Get("X-Amz-Security-Token")})
	d.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch form.Get("Action") {
	case "AssumeRole":
		if d.refuse {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>`+
				`<Message>not authorized to perform sts:AssumeRole</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
			return
		}
		_, _ = io.WriteString(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
			`<Credentials><AccessKeyId>ASIAASSUMEDROLE</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey>`+
			`<SessionToken>role-session-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>`+
			`<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/publisher/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>`+
			`</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`)
	default:
		_, _ = io.WriteString(w, `<GetTopicAttributesResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><GetTopicAttributesResult>`+
			`<Attributes><entry><key>TopicArn</key><value>`+form.Get("TopicArn")+`</value></entry></Attributes>`+
			`</GetTopicAttributesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetTopicAttributesResponse>`)
	}
}

func (d *awsDouble) snapshot() []awsCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]awsCall(nil), d.calls...)
}

// isolateAWS keeps the developer's AWS files and instance metadata out of
// a test, with static base credentials in the environment.
func isolateAWS(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIABASEIDENTITY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "base-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	for _, v := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		t.Setenv(v, "")
	}
}

func getTopic(t *testing.T, client *awssns.Client) error {
	t.Helper()
	_, err := client.GetTopicAttributes(context.Background(), &awssns.GetTopicAttributesInput{
		TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:thena-events")})
	return err
}

// With sns.role_arn the bridge publishes with the role's credentials,
// assumed through STS with the chain's own, the external id passed along.
func TestRoleARNPublishesWithTheAssumedRole(t *testing.T) {
	isolateAWS(t)
	d := newAWSDouble(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", d.URL)
	s := defaultSettings()
	s.SNS.Region, s.SNS.Endpoint = "us-east-1", d.URL
	s.SNS.RoleARN, s.SNS.ExternalID = "arn:aws:iam::123456789012:role/publisher", "tenant-7"
	s.Kafka.InstanceID = "bridge-0"
	client, err := s.snsClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := getTopic(t, client); err != nil {
		t.Fatalf("GetTopicAttributes: %v", err)
	}
	calls := d.snapshot()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want AssumeRole then GetTopicAttributes: %+v", len(calls), calls)
	}
	assume, get := calls[0], calls[1]
	if assume.form.Get("Action") != "AssumeRole" || assume.credential != "AKIABASEIDENTITY" ||
		assume.form.Get("RoleArn") != s.SNS.RoleARN || assume.form.Get("ExternalId") != "tenant-7" ||
		assume.form.Get("RoleSessionName") != "kafka-sns-bridge-bridge-0" {
		t.Errorf("AssumeRole: %+v", assume)
	}
	if get.form.Get("Action") != "GetTopicAttributes" || get.credential != "ASIAASSUMEDROLE" || get.token != "role-session-token" {
		t.Errorf("SNS call signed with %q (token %q), want the assumed role's key and session token", get.credential, get.token)
	}

	// One AssumeRole serves many calls: the credentials are cached.
	if err := getTopic(t, client); err != nil {
		t.Fatal(err)
	}
	if n := len(d.snapshot()); n != 3 {
		t.Errorf("%d calls after a second publish, want 3 (no second AssumeRole)", n)
	}
}

// A refused AssumeRole fails start-up naming sns.role_arn and what to fix.
func TestRefusedRoleNamesTheRole(t *testing.T) {
	isolateAWS(t)
	d := newAWSDouble(t)
	d.refuse = true
	t.Setenv("AWS_ENDPOINT_URL_STS", d.URL)
	s := defaultSettings()
	s.SNS.Region, s.SNS.Endpoint = "us-east-1", d.URL
	s.SNS.RoleARN = "arn:aws:iam::123456789012:role/publisher"
	_, _, err := checkTopics(context.Background(), s)
	var pe *pathError
	if !errors.As(err, &pe) || pe.path != "sns.role_arn" || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "sts:AssumeRole") {
		t.Errorf("checkTopics: %v; want sns.role_arn blamed with STS's answer", err)
	}
}

// AWS_ENDPOINT_URL_SNS is where SNS is sought when sns.endpoint is empty;
// sns.endpoint, when set, wins over it.
func TestEndpointVariableWhenNoEndpointIsSet(t *testing.T) {
	isolateAWS(t)
	fromEnv, fromFile := newAWSDouble(t), newAWSDouble(t)
	t.Setenv("AWS_ENDPOINT_URL_SNS", fromEnv.URL)

	s, problems := loadProblems(t, problemBase, map[string]string{"AWS_ENDPOINT_URL_SNS": fromEnv.URL})
	if problems != nil {
		t.Fatal(problems)
	}
	client, err := s.snsClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := getTopic(t, client); err != nil || len(fromEnv.snapshot()) != 1 {
		t.Errorf("with sns.endpoint empty: %v, %d calls at AWS_ENDPOINT_URL_SNS; want the call there", err, len(fromEnv.snapshot()))
	}
	if key, url := s.SNS.endpointKey(); key != "AWS_ENDPOINT_URL_SNS" || url != fromEnv.URL {
		t.Errorf("an SNS that does not answer would be blamed on %q (%s), want AWS_ENDPOINT_URL_SNS", key, url)
	}

	s.SNS.Endpoint = fromFile.URL
	client, err = s.snsClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := getTopic(t, client); err != nil || len(fromFile.snapshot()) != 1 || len(fromEnv.snapshot()) != 1 {
		t.Errorf("with sns.endpoint set: %v; calls %d at sns.endpoint, %d at the variable; want sns.endpoint to win",
			err, len(fromFile.snapshot()), len(fromEnv.snapshot()))
	}

	// The example config leaves the endpoint to the environment.
	ex, err := loadSettings("../../config.yaml", func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ex.SNS.Endpoint != "" {
		t.Errorf("config.yaml sets sns.endpoint to %q without SNS_ENDPOINT: AWS_ENDPOINT_URL_SNS would be ignored", ex.SNS.Endpoint)
	}
}
