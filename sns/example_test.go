package sns_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// Example wires the publisher the way the bridge does: client, start-up
// validation of the topics, publisher, Publish with a done callback, Close.
func Example() {
	ctx := context.Background()
	srv := snstest.NewServer(snstest.Options{}) // a real deployment has no Endpoint
	defer srv.Close()
	arn, _ := srv.CreateTopic("ticket-events", nil)

	client, err := sns.NewClient(ctx, sns.ClientConfig{
		Region: "us-east-1", Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if err != nil {
		log.Fatal(err)
	}
	topics, err := sns.Topics(ctx, client, []string{arn})
	if err != nil {
		log.Fatal(err) // a missing or forbidden topic: refuse to start
	}
	pub, err := sns.NewPublisher(client, sns.Config{Topics: topics})
	if err != nil {
		log.Fatal(err)
	}

	done := make(chan sns.Result, 1)
	pub.Publish(ctx, &sns.Entry{
		TopicARN:   arn,
		Body:       `{"eventId":"E1","eventType":"ticket:created"}`,
		Attributes: []sns.Attribute{{Name: "event_name", Value: "ticket:created"}},
	}, func(r sns.Result) { done <- r })
	r := <-done
	fmt.Println(r.Err == nil && r.MessageID != "", r.Attempts)

	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pub.Close(closeCtx); err != nil {
		log.Fatal(err)
	}
	// Output: true 1
}
