//go:build integration

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// Against moto's STS and SNS: with sns.role_arn the bridge assumes the role
// (moto's STS answers AssumeRole for any role) and reads the routed topic
// with the session's credentials, which are not the base ones.
func TestIntegrationRoleAssumptionAgainstMoto(t *testing.T) {
	endpoint := testenv.SNSEndpoint(t)
	arn := testenv.SNSTopic(t, false, nil)
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_ENDPOINT_URL_STS", endpoint)
	s := defaultSettings()
	s.SNS.Region, s.SNS.Endpoint = "us-east-1", endpoint
	s.SNS.RoleARN, s.SNS.ExternalID = "arn:aws:iam::123456789012:role/bridge-publisher", "tenant-7"
	s.Routing.Routes = append(s.Routing.Routes, mapping.Route{Pattern: "*", TopicARN: arn})
	client, topics, err := checkTopics(context.Background(), s)
	if err != nil {
		t.Fatalf("checkTopics with an assumed role: %v", err)
	}
	if _, ok := topics[arn]; !ok {
		t.Errorf("topics %v, want %s", topics, arn)
	}
	creds, err := client.Options().Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID == "test" || creds.SessionToken == "" || !strings.Contains(creds.Source, "AssumeRole") {
		t.Errorf("credentials %q from %q (token set %v); want the assumed role's session", creds.AccessKeyID, creds.Source, creds.SessionToken != "")
	}
}
