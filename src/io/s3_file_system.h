// S3FileSystem: the FileSystem of tables on S3-compatible object storage (AWS S3, Ceph RADOS
// Gateway, MinIO), addressed as "s3://BUCKET/KEY". Requests are signed with AWS Signature V4
// (libcurl's CURLOPT_AWS_SIGV4), reuse connections (a pool of curl handles), time out, and
// retry transient failures (curl transport errors, 429, 500, 502, 503, 504) with jittered
// exponential backoff — except the commit, see CreateExclusive().
//
// Mapping of the FileSystem contract:
//   - files are objects; directories are key prefixes ending in '/' (CreateDirs, SyncDir: no-op;
//     a directory "exists" when some key lies below it);
//   - NewWritableFile buffers in memory and uploads on Sync()/Close(): one PUT up to
//     multipart_threshold bytes, a multipart upload above (never for a commit);
//   - CreateExclusive (the commit point) is one PUT with `If-None-Match: *`: 200 = created,
//     412 = it exists (kAlreadyExists). An outcome the response leaves unknown (timeout,
//     connection reset, any 5xx — Ceph RGW answers some racing conditional PUTs with 500) is
//     resolved by reading the object back: our exact bytes = created by us; other bytes =
//     kAlreadyExists; absent = the PUT is sent again (it is conditional, so never twice
//     effective). It is never retried blindly;
//   - ReadFile/MapFile GET the object (large ones as parallel ranged GETs) through an optional
//     local cache of immutable objects (s3_cache.h);
//   - ListDir is ListObjectsV2 with a '/' delimiter (all pages); mtimes are LastModified.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "io/file_system.h"

namespace tessera::io {

struct S3Options {
  /// "http://127.0.0.1:7480" for a custom server (path-style addressing); empty: AWS,
  /// https://s3.<region>.amazonaws.com with path-style addressing as well.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< optional (temporary credentials)
  int64_t connect_timeout_ms = 5000;
  /// A request that transfers nothing for this long is abandoned (and retried if idempotent).
  int64_t low_speed_timeout_ms = 30000;
  int max_attempts = 6;  ///< per idempotent request, including the first
  int64_t backoff_base_ms = 50;
  int64_t backoff_max_ms = 5000;
  /// Objects larger than this are uploaded in parts of this size.
  int64_t multipart_threshold = 64LL << 20;
  /// Objects larger than this are downloaded as parallel ranged GETs of this size.
  int64_t ranged_get_bytes = 16LL << 20;
  /// Local cache of immutable objects (fragments, index segments, manifests, deletion files):
  /// a directory shared safely by processes, bounded by cache_bytes (LRU). Empty: no cache.
  std::string cache_dir;
  int64_t cache_bytes = 4LL << 30;

  /// Options from the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  /// AWS_REGION (or AWS_DEFAULT_REGION), AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3), and
  /// TESSERA_S3_CACHE_DIR / TESSERA_S3_CACHE_BYTES for the cache.
  static S3Options FromEnvironment();
};

/// Request counters of one S3FileSystem (benchmarks, tests).
struct S3Counters {
  int64_t get = 0;
  int64_t put = 0;
  int64_t head = 0;
  int64_t list = 0;
  int64_t del = 0;
  int64_t retries = 0;
  int64_t cache_hits = 0;
};

/// Return true if `path` is an "s3://" URI.
bool IsS3Uri(std::string_view path);

class S3FileSystem : public FileSystem {
 public:
  /// Errors: kInvalidArgument (no credentials, bad endpoint).
  static Result<std::unique_ptr<S3FileSystem>> Create(S3Options options);
  ~S3FileSystem() override;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Status CreateExclusive(const std::string& path, std::string_view contents) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<std::shared_ptr<const MappedFile>> MapFile(const std::string& path) override;
  Result<std::vector<FileInfo>> ListDir(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Status DeleteFile(const std::string& path) override;
  Status DeleteDirRecursive(const std::string& path) override;
  Status SyncDir(const std::string& path) override;

  /// Create the bucket of `uri` ("s3://BUCKET[/...]"); OK if it exists and is ours.
  Status CreateBucket(std::string_view uri);
  /// Upload `contents` to `path` (one PUT, or multipart above the threshold). Public for
  /// WritableFile and tests.
  Status PutObject(const std::string& path, std::string_view contents);

  S3Counters counters() const;
  const S3Options& options() const;

  class Impl;

 private:
  explicit S3FileSystem(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The process-wide S3FileSystem configured from the environment, created on first use.
/// Errors: as S3FileSystem::Create (e.g. no credentials in the environment).
Result<FileSystem*> DefaultS3FileSystem();

}  // namespace tessera::io
