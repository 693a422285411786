package main

// AWS wiring of the SNS client: the credentials it signs with (the standard
// chain, or a role assumed with it when sns.role_arn is set) and where its
// endpoint comes from (sns.endpoint, else AWS_ENDPOINT_URL_SNS or
// AWS_ENDPOINT_URL, which the SDK reads itself, else the real SNS).

import (
	"context"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

var (
	// roleARNPattern is an IAM role ARN in any partition (aws, aws-cn,
	// aws-us-gov), with a path or not.
	roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	// externalIDPattern is what STS accepts as an ExternalId.
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// roleSessionDuration is how long each assumed-role session lasts, and
// roleRefreshEarly how long before its end the next is asked for, so that
// no publish is signed with credentials about to expire.
const (
	roleSessionDuration = time.Hour
	roleRefreshEarly    = 5 * time.Minute
)

// roleProblems checks sns.role_arn and sns.external_id. The external id's
// value is never repeated: it is a shared secret of sorts.
func (n snsSettings) roleProblems() []error {
	var errs []error
	if n.RoleARN != "" && !roleARNPattern.MatchString(n.RoleARN) {
		errs = append(errs, problemf("sns.role_arn", "%q is not an IAM role ARN (like arn:aws:iam::123456789012:role/bridge-publisher)", n.RoleARN))
	}
	switch {
	case n.ExternalID != "" && n.RoleARN == "":
		errs = append(errs, problemf("sns.external_id", "is set but sns.role_arn is not: the external id is passed when assuming that role"))
	case n.ExternalID != "" && (len(n.ExternalID) < 2 || len(n.ExternalID) > 1224 || !externalIDPattern.MatchString(n.ExternalID)):
		errs = append(errs, problemf("sns.external_id", "is not an STS external id (2 to 1224 of letters, digits and +=,.@:/-_)"))
	}
	return errs
}

// snsClient builds the SNS client: sns.NewClient with the settings, and
// with sns.role_arn the role's credentials in place of the chain's.
func (s settings) snsClient(ctx context.Context) (*awssns.Client, error) {
	cc := s.clientConfig()
	if s.SNS.RoleARN != "" {
		creds, err := s.assumedRole(ctx)
		if err != nil {
			return nil, err
		}
		cc.Credentials = creds
	}
	return sns.NewClient(ctx, cc)
}

// assumedRole returns credentials of sns.role_arn, assumed through STS
// with the standard chain's credentials (and region and profile of the
// settings). They are cached; the first Retrieve within roleRefreshEarly
// of a session's end assumes the role again (its callers wait for that one
// STS call). STS is reached at its
// regional endpoint, or AWS_ENDPOINT_URL_STS.
func (s settings) assumedRole(ctx context.Context) (aws.CredentialsProvider, error) {
	var opts []func(*config.LoadOptions) error
	if s.SNS.Region != "" {
		opts = append(opts, config.WithRegion(s.SNS.Region))
	}
	if s.SNS.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.SNS.Profile))
	}
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	p := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), s.SNS.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = s.roleSessionName()
		o.Duration = roleSessionDuration
		if s.SNS.ExternalID != "" {
			o.ExternalID = aws.String(s.SNS.ExternalID)
		}
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = roleRefreshEarly }), nil
}

// roleSessionName names the session in CloudTrail: the bridge, and the
// replica when it has an instance id (whose characters STS accepts).
func (s settings) roleSessionName() string {
	name := "kafka-sns-bridge"
	if id := s.Kafka.InstanceID; id != "" {
		name += "-" + id
	}
	return name[:min(len(name), 64)]
}

// endpointVariables are the variables, most specific first, that the SDK
// takes the SNS endpoint from when sns.endpoint is empty.
var endpointVariables = []string{"AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL"}

// endpointFromEnv names the variable the SDK will take the SNS endpoint
// from, and its value, when sns.endpoint leaves it to the environment;
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns them off.
func endpointFromEnv(getenv func(string) string) (name, value string) {
	if getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true" {
		return "", ""
	}
	for _, v := range endpointVariables {
		if u := getenv(v); u != "" {
			return v, u
		}
	}
	return "", ""
}

// endpointKey is what to blame for where SNS was sought: sns.endpoint, the
// AWS_ENDPOINT_URL_* variable that set it, or "" for the real SNS.
func (n snsSettings) endpointKey() (key, url string) {
	if n.Endpoint != "" {
		return "sns.endpoint", n.Endpoint
	}
	return n.endpointVar, n.endpointURL
}
