package sns

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// acceptAll is an SNS that publishes every entry at once.
type acceptAll struct{ API }

func (acceptAll) PublishBatch(_ context.Context, in *awssns.PublishBatchInput, _ ...func(*awssns.Options)) (*awssns.PublishBatchOutput, error) {
	out := &awssns.PublishBatchOutput{}
	for _, e := range in.PublishBatchRequestEntries {
		out.Successful = append(out.Successful, types.PublishBatchResultEntry{Id: e.Id, MessageId: aws.String("m-" + aws.ToString(e.Id))})
	}
	return out, nil
}

// TestContextWatchesStayBounded: a caller that hands every run a context
// of its own, and never cancels them, does not make the publisher hold on
// to more than maxIdleWatches of them; a context that ends is let go of at
// once; Close lets go of the rest.
func TestContextWatchesStayBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := NewPublisher(acceptAll{}, Config{})
		if err != nil {
			t.Fatal(err)
		}
		watched := func() int {
			p.watchMu.Lock()
			defer p.watchMu.Unlock()
			return len(p.watches)
		}
		var wg sync.WaitGroup
		var cancels []context.CancelFunc
		for i := range 4 * maxIdleWatches {
			ctx, cancel := context.WithCancel(t.Context())
			cancels = append(cancels, cancel)
			wg.Add(1)
			p.Publish(ctx, &Entry{TopicARN: "arn:aws:sns:us-east-1:123456789012:t", Body: fmt.Sprint(i)}, func(r Result) {
				if r.Err != nil {
					t.Errorf("entry %d: %v", i, r.Err)
				}
				wg.Done()
			})
		}
		wg.Wait()
		if n := watched(); n > maxIdleWatches {
			t.Errorf("%d contexts watched after every run was done; want at most %d", n, maxIdleWatches)
		}
		before := watched()
		for _, cancel := range cancels {
			cancel()
		}
		synctest.Wait()
		if n := watched(); n != 0 {
			t.Errorf("%d contexts still watched after all ended (%d before)", n, before)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		wg.Add(1)
		p.Publish(ctx, &Entry{TopicARN: "arn:aws:sns:us-east-1:123456789012:t", Body: "last"}, func(Result) { wg.Done() })
		wg.Wait()
		if err := p.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := watched(); n != 0 {
			t.Errorf("%d contexts watched after Close", n)
		}
	})
}
