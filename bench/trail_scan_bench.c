/* Throughput of ct_trail_parse on ~100 MB of synthetic, realistic ~1.3 KB
 * CloudTrail records (compact {"Records":[...]}, as CloudTrail writes them),
 * or on the files given as arguments. */

/* Not part of the build. From the source folder:
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/trail_scan_bench.c \
 *      src/trail/trail.c src/util/date.c src/util/error.c -o /tmp/trail_bench
 *   /tmp/trail_bench [FILE...] */
#include "cloudtracker/trail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct counts {
    size_t records, rejects, name_bytes;
} counts;

static int on_record(void *ud, const ct_trail_record *rec)
{
    counts *c = ud;
    c->records++;
    c->name_bytes += strlen(rec->event_name); /* touch the output */
    return 0;
}

static int on_reject(void *ud, size_t offset, const char *reason)
{
    (void)offset;
    (void)reason;
    ((counts *)ud)->rejects++;
    return 0;
}

/* Appends one record; fields vary with i so nothing is suspiciously uniform. */
static int put_record(char *out, size_t room, unsigned i)
{
    static const char *const names[] = {"DescribeInstances", "AssumeRole",    "GetObject",
                                        "ListBuckets",       "PutMetricData", "Decrypt"};
    static const char *const sources[] = {"ec2.amazonaws.com",        "sts.amazonaws.com",
                                          "s3.amazonaws.com",         "s3.amazonaws.com",
                                          "monitoring.amazonaws.com", "kms.amazonaws.com"};
    unsigned k = i % 6;
    return snprintf(
        out, room,
        "%s{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"AssumedRole\","
        "\"principalId\":\"AROAMLQ9F6KHQ07JKA0WY:session-%u\",\"arn\":\"arn:aws:sts::"
        "457448411975:assumed-role/app-role-%u/session-%u\",\"accountId\":\"457448411975\","
        "\"accessKeyId\":\"ASIANQQHHS551LW%05u\",\"sessionContext\":{\"sessionIssuer\":{"
        "\"type\":\"Role\",\"principalId\":\"AROAMLQ9F6KHQ07JKA0WY\",\"arn\":\"arn:aws:iam::"
        "457448411975:role/app-role-%u\",\"accountId\":\"457448411975\",\"userName\":"
        "\"app-role-%u\"},\"attributes\":{\"creationDate\":\"2024-07-30T21:31:15Z\","
        "\"mfaAuthenticated\":\"false\"}}},\"eventTime\":\"2024-07-30T21:%02u:%02uZ\","
        "\"eventSource\":\"%s\",\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\","
        "\"sourceIPAddress\":\"10.%u.%u.%u\",\"userAgent\":\"aws-sdk-go-v2/1.30.3 os/linux "
        "lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.173.0\","
        "\"requestParameters\":{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-%08x\"},"
        "{\"instanceId\":\"i-%08x\"}]},\"filterSet\":{},\"maxResults\":%u,"
        "\"includeAllInstances\":false},\"responseElements\":null,\"requestID\":"
        "\"b25e0f2a-0a98-4b8f-%04x-fce249e28a83\",\"eventID\":\"560bcc37-36b9-43f4-%04x-"
        "2bab2d7cd7cf\",\"readOnly\":true,\"eventType\":\"AwsApiCall\",\"managementEvent\":"
        "true,\"recipientAccountId\":\"457448411975\",\"eventCategory\":\"Management\","
        "\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\","
        "\"clientProvidedHostHeader\":\"%s\"}}",
        i ? "," : "", i, i % 50, i, i % 100000, i % 50, i % 50, (i / 60) % 60, i % 60, sources[k],
        names[k], i % 256, (i / 256) % 256, i % 200, i, i * 7u, 10 + i % 90, i & 0xFFFF,
        (i * 13) & 0xFFFF, sources[k]);
}

static char *synthesize(size_t target, size_t *len)
{
    size_t cap = target + 8192;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    size_t n = (size_t)sprintf(buf, "{\"Records\":[");
    for (unsigned i = 0; n < target; i++)
        n += (size_t)put_record(buf + n, cap - n - 16, i);
    n += (size_t)sprintf(buf + n, "]}");
    *len = n;
    return buf;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* CPU time of this thread: on a shared machine wall time mostly measures
 * the neighbours. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench(const char *label, const char *json, size_t len)
{
    double best = 1e30;
    counts c = {0, 0, 0};
    for (int round = 0; round < 5; round++) {
        memset(&c, 0, sizeof(c));
        ct_error err;
        double t0 = now();
        int rc = ct_trail_parse(json, len, NULL, on_record, on_reject, &c, &err);
        double t = now() - t0;
        if (rc != 0)
            fprintf(stderr, "%s: parse failed (%d): %s\n", label, rc, err.message);
        if (t < best)
            best = t;
    }
    printf("%s: %.1f MB, %zu records (%.0f bytes each), %zu rejected: %.0f MB/s\n", label,
           (double)len / 1e6, c.records, c.records ? (double)len / (double)c.records : 0.0,
           c.rejects, (double)len / 1e6 / best);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            size_t len;
            char *json = slurp(argv[i], &len);
            if (!json) {
                perror(argv[i]);
                return 1;
            }
            bench(argv[i], json, len);
            free(json);
        }
        return 0;
    }
    size_t len;
    char *json = synthesize(100u << 20, &len);
    if (!json)
        return 1;
    bench("synthetic", json, len);
    free(json);
    return 0;
}
