/*
 * kafka_mock.c - a Kafka cluster on loopback for the tests: librdkafka's
 * mock cluster (rdkafka_mock.h), which speaks the Kafka protocol over TCP
 * like any broker, so flowtally and kcat connect to it as to a real one.
 *
 * Usage: kafka_mock [BROKERS]   (default 1 broker; ids 1..BROKERS)
 * Prints "bootstrap HOST:PORT[,HOST:PORT...]" on stdout once listening, then
 * reads commands on stdin, one per line, answering each with one line
 * ("ok ..." or "error ...") so a test can wait for it:
 *   topic NAME PARTITIONS   create a topic (replication factor 1)
 *   down ID                 disconnect broker ID (-1 = all) and refuse new
 *                           connections (rd_kafka_mock_broker_set_down)
 *   up ID                   accept connections again (rd_kafka_mock_broker_set_up)
 * Runs until stdin closes (or "quit"), then destroys the cluster.
 * Exit: 0, or 1 when the cluster cannot be created.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reply(const char *fmt, const char *a, long b, rd_kafka_resp_err_t err)
{
    if (err)
        printf("error %s\n", rd_kafka_err2str(err));
    else
        printf(fmt, a, b);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int brokers = argc > 1 ? atoi(argv[1]) : 1;
    if (brokers < 1 || brokers > 16) {
        fprintf(stderr, "kafka_mock: BROKERS must be 1..16\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only hosts the cluster; it never connects anywhere. */
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_mock: rd_kafka_new: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        char cmd[32], name[256];
        long n;
        if (sscanf(line, "%31s", cmd) != 1)
            continue;
        if (strcmp(cmd, "quit") == 0)
            break;
        if (strcmp(cmd, "topic") == 0 && sscanf(line, "%*s %255s %ld", name, &n) == 2 && n > 0 && n < 1000)
            reply("ok topic %s %ld\n", name, n, rd_kafka_mock_topic_create(mc, name, (int)n, 1));
        else if (strcmp(cmd, "down") == 0 && sscanf(line, "%*s %ld", &n) == 1)
            reply("ok down%s %ld\n", "", n, rd_kafka_mock_broker_set_down(mc, (int32_t)n));
        else if (strcmp(cmd, "up") == 0 && sscanf(line, "%*s %ld", &n) == 1)
            reply("ok up%s %ld\n", "", n, rd_kafka_mock_broker_set_up(mc, (int32_t)n));
        else {
            printf("error unknown command: %s", line);
            fflush(stdout);
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
