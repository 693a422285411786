package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Client returns an S3 client for SNSEndpoint(t) (moto serves S3 beside SNS and SQS), with
// path-style requests.
func S3Client(t testing.TB) *s3.Client {
	t.Helper()
	return s3.NewFromConfig(AWSConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
}

// S3Bucket creates an S3 bucket with a name unique to this test and deletes it, with every
// object in it, in t.Cleanup. It returns the bucket's name.
func S3Bucket(t testing.TB) string {
	t.Helper()
	client := S3Client(t)
	name := strings.ToLower(Name(t, "b", 63)) // S3 bucket names are lower case
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("testenv: creating s3 bucket %s at %s: %v", name, SNSEndpoint(t), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &name})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Errorf("testenv: listing s3 bucket %s: %v", name, err)
				return
			}
			for _, o := range page.Contents {
				if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &name, Key: o.Key}); err != nil {
					t.Errorf("testenv: deleting s3://%s/%s: %v", name, aws.ToString(o.Key), err)
				}
			}
		}
		if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name}); err != nil {
			t.Errorf("testenv: deleting s3 bucket %s: %v", name, err)
		}
	})
	return name
}
