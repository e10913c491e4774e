/* Unit tests for SHA-256 (FIPS 180-4 examples), HMAC-SHA256 (RFC 4231) and
 * the SigV4 signer (the worked example of AWS's documentation, and the
 * canonical forms Amazon OpenSearch expects for patterns and comma lists). */
#include "es/es_sigv4.h"
#include "test.h"
#include "util/sha256.h"

#include <stdlib.h>

static void check_sha(const char *msg, size_t len, const char *want)
{
    uint8_t d[CT_SHA256_LEN];
    char hex[65];
    ct_sha256_digest(msg, len, d);
    ct_hex_lower(d, sizeof(d), hex);
    CHECK_STR(hex, want);
}

static void test_sha256(void)
{
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_sha(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* One million 'a', fed in uneven pieces to exercise the block buffer. */
    ct_sha256 s;
    ct_sha256_init(&s);
    char chunk[997];
    memset(chunk, 'a', sizeof(chunk));
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
        ct_sha256_update(&s, chunk, n);
        left -= n;
    }
    uint8_t d[CT_SHA256_LEN];
    char hex[65];
    ct_sha256_final(&s, d);
    ct_hex_lower(d, sizeof(d), hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* 55 and 56 bytes: the padding boundary. */
    check_sha(chunk, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check_sha(chunk, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

static void check_hmac(const void *key, size_t klen, const char *msg, const char *want)
{
    uint8_t d[CT_SHA256_LEN];
    char hex[65];
    ct_hmac_sha256(key, klen, msg, strlen(msg), d);
    ct_hex_lower(d, sizeof(d), hex);
    CHECK_STR(hex, want);
}

static void test_hmac(void)
{
    uint8_t key[131];
    memset(key, 0x0b, 20);
    check_hmac(key, 20, "Hi There",
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    check_hmac("Jefe", 4, "what do ya want for nothing?",
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, sizeof(key));
    check_hmac(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First",
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_aws_example(void)
{
    /* AWS General Reference, "Signature Version 4 signing process" worked
     * example: IAM ListUsers on 2015-08-30. */
    const char *names[] = {"content-type", "host", "x-amz-date"};
    const char *values[] = {"application/x-www-form-urlencoded; charset=utf-8", "iam.amazonaws.com",
                            "20150830T123600Z"};
    ct_sigv4_request r = {
        .method = "GET",
        .path = "/",
        .query = "Version=2010-05-08&Action=ListUsers",
        .header_names = names,
        .header_values = values,
        .header_count = 3,
        .payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        .amz_date = "20150830T123600Z",
        .region = "us-east-1",
        .service = "iam",
        .access_key = "AKIDEXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    };
    ct_buf auth = CT_BUF_INIT, canon = CT_BUF_INIT;
    CHECK_INT(ct_sigv4_sign(&r, &auth, &canon), 0);
    CHECK_STR(auth.data,
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/"
              "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
              "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    uint8_t d[CT_SHA256_LEN];
    char hex[65];
    ct_sha256_digest(canon.data, canon.len, d);
    ct_hex_lower(d, sizeof(d), hex);
    CHECK_STR(hex, "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    ct_buf_release(&auth);
    ct_buf_release(&canon);
}

static void test_canonical_forms(void)
{
    ct_buf b = CT_BUF_INIT;
    CHECK_INT(ct_sigv4_canonical_uri("/cloudtrail-*/_search", &b), 0);
    CHECK_STR(b.data, "/cloudtrail-%2A/_search");
    ct_buf_reset(&b);
    CHECK_INT(ct_sigv4_canonical_uri("/a%2Cb,c/_search", &b), 0);
    CHECK_STR(b.data, "/a%252Cb%2Cc/_search");
    ct_buf_reset(&b);
    CHECK_INT(ct_sigv4_canonical_query("b=2&a=x%20y&v", &b), 0);
    CHECK_STR(b.data, "a=x%20y&b=2&v=");
    ct_buf_reset(&b);
    CHECK_INT(ct_sigv4_canonical_query("fields=eventName,eventName.keyword&a=*", &b), 0);
    CHECK_STR(b.data, "a=%2A&fields=eventName%2CeventName.keyword");
    ct_buf_release(&b);
}

int main(void)
{
    RUN(test_sha256);
    RUN(test_hmac);
    RUN(test_aws_example);
    RUN(test_canonical_forms);
    TEST_MAIN_END();
}
