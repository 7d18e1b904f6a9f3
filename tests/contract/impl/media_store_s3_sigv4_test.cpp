// AWS Signature Version 4 (plugins/media-store/s3/sigv4.h) against published
// vectors.
//
// Test data (inputs and expected outputs only) is recorded from:
// - the AWS SigV4 test suite ("aws-sig-v4-test-suite", as published by AWS and
//   vendored e.g. in bazelbuild/bazel third_party/aws-sig-v4-test-suite/):
//   credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region
//   us-east-1, service "service", time 20150830T123600Z; each case's .req
//   (request), and where we quote them .creq (canonical request), .sts (string
//   to sign) and .authz (Authorization header);
// - the S3 API reference, "Signature Calculations for the Authorization
//   Header: Transferring Payload in a Single Chunk", examples GET Object and
//   PUT Object (credentials AKIAIOSFODNN7EXAMPLE /
//   wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, region us-east-1, service s3,
//   time 20130524T000000Z), which show S3's own rules: the path encoded
//   once, and x-amz-content-sha256 signed.
#include "../../../plugins/media-store/s3/sigv4.h"

#include <catch2/catch.hpp>

#include <string>

namespace eltrix::media_s3 {
namespace {

using sigv4::Pairs;

const sigv4::Credentials kSuiteCredentials{"AKIDEXAMPLE",
                                           "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
const sigv4::Scope kSuiteScope{"20150830", "us-east-1", "service"};
constexpr const char* kSuiteDate = "20150830T123600Z";
constexpr const char* kSuiteCredentialPrefix =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

struct Vector {
  const char* name;
  const char* method;
  const char* path;  // raw, as in the .req line
  Pairs query{};
  Pairs extra_headers{};  // besides Host and X-Amz-Date, in .req order
  const char* body;
  const char* signed_headers;
  const char* signature;
  const char* creq = nullptr;  // when we record the suite's .creq
  const char* sts = nullptr;   // when we record the suite's .sts
};

std::vector<Vector> suite_vectors() {
  return {
      {.name = "get-vanilla",
       .method = "GET",
       .path = "/",
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
       .creq = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
               "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       .sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"},
      {.name = "post-vanilla",
       .method = "POST",
       .path = "/",
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {.name = "get-vanilla-query-order-key-case",
       .method = "GET",
       .path = "/",
       .query = {{"Param2", "value2"}, {"Param1", "value1"}},
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
       .creq = "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:"
               "20150830T123600Z\n\nhost;x-amz-date\n"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       .sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"},
      {.name = "get-vanilla-query-order-value",
       .method = "GET",
       .path = "/",
       .query = {{"Param1", "value2"}, {"Param1", "value1"}},
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694",
       .creq = "GET\n/\nParam1=value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:"
               "20150830T123600Z\n\nhost;x-amz-date\n"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       .sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606"},
      {.name = "get-vanilla-query-unreserved",
       .method = "GET",
       .path = "/",
       .query = {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                  "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}},
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {.name = "get-vanilla-utf8-query",
       .method = "GET",
       .path = "/",
       .query = {{"\xe1\x88\xb4", "bar"}},
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {.name = "post-vanilla-empty-query-value",
       .method = "POST",
       .path = "/",
       .query = {{"Param1", "value1"}},
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {.name = "get-unreserved",
       .method = "GET",
       .path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {.name = "get-utf8",
       .method = "GET",
       .path = "/\xe1\x88\xb4",
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {.name = "normalize-path/get-space",
       .method = "GET",
       .path = "/example space/",
       .body = "",
       .signed_headers = "host;x-amz-date",
       .signature = "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {.name = "get-header-value-trim",
       .method = "GET",
       .path = "/",
       .extra_headers = {{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}},
       .body = "",
       .signed_headers = "host;my-header1;my-header2;x-amz-date",
       .signature = "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {.name = "get-header-key-duplicate",
       .method = "GET",
       .path = "/",
       .extra_headers = {{"My-Header1", "value2"},
                         {"My-Header1", "value2"},
                         {"My-Header1", "value1"}},
       .body = "",
       .signed_headers = "host;my-header1;x-amz-date",
       .signature = "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {.name = "post-header-key-sort",
       .method = "POST",
       .path = "/",
       .extra_headers = {{"My-Header1", "value1"}},
       .body = "",
       .signed_headers = "host;my-header1;x-amz-date",
       .signature = "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {.name = "post-x-www-form-urlencoded",
       .method = "POST",
       .path = "/",
       .extra_headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
       .body = "Param1=value1",
       .signed_headers = "content-type;host;x-amz-date",
       .signature = "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
       .creq = "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example."
               "amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
               "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
       .sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"},
      {.name = "post-x-www-form-urlencoded-parameters",
       .method = "POST",
       .path = "/",
       .extra_headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}},
       .body = "Param1=value1",
       .signed_headers = "content-type;host;x-amz-date",
       .signature = "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
  };
}

sigv4::Request suite_request(const Vector& v) {
  sigv4::Request request{.method = v.method, .path = v.path, .query = v.query};
  // Header order as in the .req files: Host first, X-Amz-Date last; the
  // canonical form sorts them anyway.
  request.headers.emplace_back("Host", "example.amazonaws.com");
  for (const auto& header : v.extra_headers) request.headers.push_back(header);
  request.headers.emplace_back("X-Amz-Date", kSuiteDate);
  request.payload_hash = sigv4::sha256_hex(v.body);
  return request;
}

}  // namespace

TEST_CASE("SigV4 matches the AWS test-suite vectors", "[plugin][media-s3][sigv4]") {
  for (const auto& vector : suite_vectors()) {
    INFO("vector " << vector.name);
    auto request = suite_request(vector);
    auto result = sigv4::sign(request, kSuiteCredentials, kSuiteDate, kSuiteScope);
    if (vector.creq != nullptr) CHECK(result.canonical_request == vector.creq);
    if (vector.sts != nullptr) CHECK(result.string_to_sign == vector.sts);
    CHECK(result.authorization == std::string(kSuiteCredentialPrefix) + "SignedHeaders=" +
                                      vector.signed_headers + ", Signature=" + vector.signature);
  }
}

TEST_CASE("SigV4 intermediate steps", "[plugin][media-s3][sigv4]") {
  SECTION("percent-encoding keeps only unreserved characters, upper-case hex") {
    CHECK(sigv4::uri_encode("AZaz09-._~", false) == "AZaz09-._~");
    CHECK(sigv4::uri_encode("a b+c=d&e/f", false) == "a%20b%2Bc%3Dd%26e%2Ff");
    CHECK(sigv4::uri_encode("a/b", true) == "a/b");
    CHECK(sigv4::uri_encode("\xe1\x88\xb4", false) == "%E1%88%B4");
  }
  SECTION("an empty query value still gets its '='") {
    CHECK(sigv4::canonical_query({{"uploads", ""}}) == "uploads=");
    CHECK(sigv4::canonical_query({{"uploadId", "a/b+c"}, {"partNumber", "2"}}) ==
          "partNumber=2&uploadId=a%2Fb%2Bc");
  }
  SECTION("header names are lower-cased and sorted, values trimmed and collapsed") {
    auto headers = sigv4::canonical_headers({{"X-B", "  two   words "}, {"a", "1"}, {"x-b", "3"}});
    CHECK(headers.block == "a:1\nx-b:two words,3\n");
    CHECK(headers.signed_headers == "a;x-b");
  }
  SECTION("incremental SHA-256 equals the one-shot digest and resets") {
    sigv4::Sha256 hash;
    hash.update("Param1=", 7);
    hash.update("value1", 6);
    CHECK(hash.finish_hex() == sigv4::sha256_hex("Param1=value1"));
    CHECK(hash.finish_hex() == std::string(sigv4::kEmptyPayloadHash));
  }
  SECTION("x-amz-date format") {
    // 2015-08-30T12:36:00Z
    auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
    CHECK(sigv4::amz_date(when) == "20150830T123600Z");
  }
}

TEST_CASE("SigV4 for S3: the AWS S3 reference examples", "[plugin][media-s3][sigv4]") {
  const sigv4::Credentials credentials{"AKIAIOSFODNN7EXAMPLE",
                                       "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
  const sigv4::Scope scope{"20130524", "us-east-1", "s3"};

  SECTION("GET Object with a Range header; x-amz-content-sha256 is signed") {
    sigv4::Request request{.method = "GET", .path = "/test.txt"};
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"Range", "bytes=0-9"},
                       {"x-amz-content-sha256", std::string(sigv4::kEmptyPayloadHash)},
                       {"x-amz-date", "20130524T000000Z"}};
    request.payload_hash = sigv4::kEmptyPayloadHash;
    auto result = sigv4::sign(request, credentials, "20130524T000000Z", scope);
    CHECK(result.canonical_request ==
          "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
          "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(result.string_to_sign ==
          "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
          "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    CHECK(result.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    CHECK(result.authorization ==
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
          "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
          "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  }

  SECTION("PUT Object: '$' in the key is encoded once (%24), never twice (%2524)") {
    const std::string body = "Welcome to Amazon S3.";
    sigv4::Request request{.method = "PUT", .path = "/test$file.text"};
    request.payload_hash = sigv4::sha256_hex(body);
    CHECK(request.payload_hash ==
          "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                       {"x-amz-date", "20130524T000000Z"},
                       {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                       {"x-amz-content-sha256", request.payload_hash}};
    auto result = sigv4::sign(request, credentials, "20130524T000000Z", scope);
    CHECK(sigv4::encode_path(request.path) == "/test%24file.text");
    CHECK(result.canonical_request.substr(0, 22) == "PUT\n/test%24file.text\n");
    CHECK(result.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  }

  SECTION("GET Bucket lifecycle: a query parameter without a value") {
    sigv4::Request request{.method = "GET", .path = "/", .query = {{"lifecycle", ""}}};
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"x-amz-date", "20130524T000000Z"},
                       {"x-amz-content-sha256", std::string(sigv4::kEmptyPayloadHash)}};
    request.payload_hash = sigv4::kEmptyPayloadHash;
    auto result = sigv4::sign(request, credentials, "20130524T000000Z", scope);
    CHECK(result.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  }

  SECTION("GET Bucket (list objects): query sorted and encoded") {
    sigv4::Request request{
        .method = "GET", .path = "/", .query = {{"max-keys", "2"}, {"prefix", "J"}}};
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"x-amz-date", "20130524T000000Z"},
                       {"x-amz-content-sha256", std::string(sigv4::kEmptyPayloadHash)}};
    request.payload_hash = sigv4::kEmptyPayloadHash;
    auto result = sigv4::sign(request, credentials, "20130524T000000Z", scope);
    CHECK(result.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  }

  SECTION("UNSIGNED-PAYLOAD is signed as the literal string") {
    sigv4::Request request{.method = "PUT", .path = "/bucket/example.org/abc"};
    request.headers = {{"Host", "127.0.0.1:9000"},
                       {"x-amz-date", "20130524T000000Z"},
                       {"x-amz-content-sha256", std::string(sigv4::kUnsignedPayload)}};
    request.payload_hash = sigv4::kUnsignedPayload;
    auto result = sigv4::sign(request, credentials, "20130524T000000Z", scope);
    CHECK(result.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
    CHECK(result.canonical_request.find("x-amz-content-sha256:UNSIGNED-PAYLOAD\n") !=
          std::string::npos);
  }

  SECTION("signing with a derived key equals signing with the secret") {
    sigv4::Request request{.method = "GET", .path = "/test.txt"};
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"x-amz-date", "20130524T000000Z"}};
    request.payload_hash = sigv4::kEmptyPayloadHash;
    auto key = sigv4::signing_key(credentials.secret_key, scope);
    CHECK(sigv4::sign_with_key(request, credentials.access_key, key, "20130524T000000Z", scope)
              .authorization ==
          sigv4::sign(request, credentials, "20130524T000000Z", scope).authorization);
  }

  SECTION("a different secret gives a different signature") {
    sigv4::Request request{.method = "GET", .path = "/test.txt"};
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"x-amz-date", "20130524T000000Z"}};
    request.payload_hash = sigv4::kEmptyPayloadHash;
    auto good = sigv4::sign(request, credentials, "20130524T000000Z", scope);
    auto bad = sigv4::sign(request, {credentials.access_key, "wrong"}, "20130524T000000Z", scope);
    CHECK(good.canonical_request == bad.canonical_request);
    CHECK(good.signature != bad.signature);
  }
}

}  // namespace eltrix::media_s3
