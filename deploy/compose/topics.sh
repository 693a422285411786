#!/bin/sh
# Creates the bridge's source topic (12 partitions, like the Kubernetes
# deployment's) and its dead-letter topic, once: an existing topic is kept.
# KAFKA_BOOTSTRAP is the broker's address as this container reaches it. A broker
# that has just opened its port may not take requests yet: each creation is
# tried for about two minutes.
set -eu
bs=${KAFKA_BOOTSTRAP:-kafka:29092}
for spec in thena.events:12 thena.events.dlq:1; do
  tries=0
  until /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$bs" --create --if-not-exists \
    --topic "${spec%:*}" --partitions "${spec##*:}" --replication-factor 1; do
    tries=$((tries + 1))
    [ "$tries" -lt 12 ] || exit 1
    sleep 5
  done
done
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$bs" --list
