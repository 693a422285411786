#!/bin/sh
# Creates the SNS topics the bridge publishes to and an SQS queue subscribed to
# each (raw delivery), so integrators' view can be read back with
#   aws --endpoint-url http://127.0.0.1:4566 sqs receive-message --queue-url ...
# SNS_ENDPOINT is the emulator's address as this container reaches it. Uses only
# commands and options that AWS CLI v1 and v2 both have.
set -eu
ep=${SNS_ENDPOINT:-http://sns:4566}
for name in thena-events thena-custom-object-events; do
  arn=$(aws --endpoint-url "$ep" sns create-topic --name "$name" --query TopicArn --output text)
  url=$(aws --endpoint-url "$ep" sqs create-queue --queue-name "$name-integrator" --query QueueUrl --output text)
  qarn=$(aws --endpoint-url "$ep" sqs get-queue-attributes --queue-url "$url" --attribute-names QueueArn --query Attributes.QueueArn --output text)
  aws --endpoint-url "$ep" sns subscribe --topic-arn "$arn" --protocol sqs --notification-endpoint "$qarn" \
    --attributes RawMessageDelivery=true >/dev/null
  echo "topic $arn -> queue $url"
done
