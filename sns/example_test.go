package sns_test

import (
	"context"
	"fmt"
	"log"
	"sync"
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

// ExamplePublisher_PublishRun publishes three events of one organization as
// one run: they ride one PublishBatch call, in order, and each entry's
// outcome comes back by its index.
func ExamplePublisher_PublishRun() {
	ctx := context.Background()
	srv := snstest.NewServer(snstest.Options{})
	defer srv.Close()
	arn, _ := srv.CreateTopic("ticket-events.fifo", map[string]string{"FifoTopic": "true"})
	client, err := sns.NewClient(ctx, sns.ClientConfig{
		Region: "us-east-1", Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if err != nil {
		log.Fatal(err)
	}
	pub, err := sns.NewPublisher(client, sns.Config{Linger: sns.NoLinger})
	if err != nil {
		log.Fatal(err)
	}
	var run []*sns.Entry
	for i := range 3 {
		run = append(run, &sns.Entry{TopicARN: arn, Body: fmt.Sprintf(`{"eventId":"E%d"}`, i),
			GroupID: "ORG1", DedupID: fmt.Sprint("E", i)})
	}
	if n, bytes := pub.RunLimit(arn); len(run) > n || 3*20 > bytes {
		log.Fatal("the run is over the limit")
	}
	results := make([]sns.Result, len(run))
	var wg sync.WaitGroup
	wg.Add(len(run))
	pub.PublishRun(ctx, "ORG1", run, func(i int, r sns.Result) { results[i] = r; wg.Done() })
	wg.Wait()
	for i, r := range results {
		fmt.Println(i, r.Err == nil && r.MessageID != "", r.Attempts)
	}
	fmt.Println(srv.Calls("PublishBatch"), "call")
	if err := pub.Close(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 0 true 1
	// 1 true 1
	// 2 true 1
	// 1 call
}
