"""Reads an SQS queue with AWS's Amazon SQS Extended Client Library for Python
(amazon-sqs-extended-client, from PyPI), as a subscriber of an offloading
bridge would, and prints one JSON line per message:

    {"body_b64": <the body the client returns, UTF-8, base64>, "attributes": {name: value},
     "offloaded": <whether the message was a pointer>}

With raw message delivery the client resolves pointers itself (it sees the
ExtendedPayloadSize attribute). Without it, the SQS body is SNS's envelope:
the script unwraps it and hands the pointer to the same client's
retrieve_message_from_s3, which is what such a subscriber does.

Usage: extended_read.py QUEUE_URL COUNT raw|envelope TIMEOUT_SECONDS
Environment: AWS_ENDPOINT_URL (moto), AWS_* credentials and region.
"""

import base64
import json
import os
import sys
import time

import boto3
import botocore.config
import sqs_extended_client  # noqa: F401  (replaces boto3's Session with the extended one)
import sns_extended_client  # noqa: F401  (installed beside it; imported to prove it is)


def main():
    queue_url, count, mode, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    session = boto3.session.Session()
    sqs = session.client("sqs", endpoint_url=endpoint)
    # Path-style S3 requests for the local endpoint; on AWS the default client does.
    sqs.s3_client = session.client(
        "s3", endpoint_url=endpoint, config=botocore.config.Config(s3={"addressing_style": "path"})
    )
    sqs.delete_payload_from_s3 = False  # the default, said: deleting a message keeps its object
    deadline = time.monotonic() + timeout
    got = 0
    while got < count and time.monotonic() < deadline:
        resp = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        for m in resp.get("Messages", []):
            if mode == "raw":
                body = m["Body"]
                attrs = {k: v.get("StringValue") for k, v in m.get("MessageAttributes", {}).items()}
                offloaded = sqs.is_s3_receipt_handle(m["ReceiptHandle"])
            else:
                envelope = json.loads(m["Body"])
                attrs = {k: v.get("Value") for k, v in envelope.get("MessageAttributes", {}).items()}
                offloaded = "ExtendedPayloadSize" in attrs
                body = sqs.retrieve_message_from_s3(envelope["Message"]) if offloaded else envelope["Message"]
            print(json.dumps({"body_b64": base64.b64encode(body.encode("utf-8")).decode(),
                              "attributes": attrs, "offloaded": offloaded}), flush=True)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
            got += 1
    if got < count:
        sys.exit(f"read {got} of {count} messages in {timeout}s")


if __name__ == "__main__":
    main()
