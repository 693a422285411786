#!/bin/sh
# kafka-topics.sh as in Kafka's distribution: the topic tool on the image's jars.
exec java -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
	-Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties -cp '/opt/kafka/libs/*' \
	org.apache.kafka.tools.TopicCommand "$@"
