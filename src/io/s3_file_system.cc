#include "io/s3_file_system.h"

#include <curl/curl.h>
#include <expat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "io/s3_cache.h"

namespace tessera::io {
namespace {

constexpr std::string_view kScheme = "s3://";

struct S3Path {
  std::string bucket;
  std::string key;  // no leading '/'; may be empty (the bucket root)
};

Result<S3Path> ParseS3Path(std::string_view uri) {
  if (!uri.starts_with(kScheme)) {
    return Status::InvalidArgument("not an s3:// path: '", uri, "'");
  }
  uri.remove_prefix(kScheme.size());
  const size_t slash = uri.find('/');
  S3Path path;
  path.bucket = std::string(uri.substr(0, slash));
  if (slash != std::string_view::npos) path.key = std::string(uri.substr(slash + 1));
  if (path.bucket.empty()) return Status::InvalidArgument("s3 path without a bucket: '", uri, "'");
  while (!path.key.empty() && path.key.back() == '/') path.key.pop_back();
  return path;
}

// AWS URI encoding (SigV4): unreserved characters stay, everything else is %XX (upper case);
// '/' stays in object keys.
std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// "2026-11-29T02:31:00.123Z" -> microseconds since the epoch (0 if unparsable).
int64_t ParseIsoTimeMicros(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  const size_t dot = text.find('.');
  if (dot != std::string::npos) millis = std::atoi(text.c_str() + dot + 1) % 1000;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000000 + millis * 1000;
}

// Collects the text of XML elements by their path ("ListBucketResult/Contents/Key"), in
// document order, through expat.
class XmlCollector {
 public:
  using Callback = std::function<void(const std::string& path, const std::string& text)>;
  explicit XmlCollector(Callback on_end) : on_end_(std::move(on_end)) {}

  Status Parse(std::string_view xml) {
    XML_Parser parser = XML_ParserCreate(nullptr);
    if (parser == nullptr) return Status::Internal("xml: out of memory");
    XML_SetUserData(parser, this);
    XML_SetElementHandler(parser, &XmlCollector::Start, &XmlCollector::End);
    XML_SetCharacterDataHandler(parser, &XmlCollector::Text);
    const XML_Status status = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), 1);
    Status result = Status::OK();
    if (status != XML_STATUS_OK) {
      result = Status::IOError("s3: malformed XML response: ",
                               XML_ErrorString(XML_GetErrorCode(parser)));
    }
    XML_ParserFree(parser);
    return result;
  }

 private:
  static void Start(void* self_ptr, const XML_Char* name, const XML_Char**) {
    auto* self = static_cast<XmlCollector*>(self_ptr);
    self->stack_.push_back(self->path_.size());
    if (!self->path_.empty()) self->path_.push_back('/');
    self->path_ += name;
    self->text_.clear();
  }
  static void End(void* self_ptr, const XML_Char*) {
    auto* self = static_cast<XmlCollector*>(self_ptr);
    self->on_end_(self->path_, self->text_);
    self->path_.resize(self->stack_.back());
    self->stack_.pop_back();
    self->text_.clear();
  }
  static void Text(void* self_ptr, const XML_Char* text, int size) {
    static_cast<XmlCollector*>(self_ptr)->text_.append(text, static_cast<size_t>(size));
  }

  Callback on_end_;
  std::string path_;
  std::vector<size_t> stack_;
  std::string text_;
};

// The <Code> and <Message> of an S3 error body ("" if none).
std::string ErrorDetail(const std::string& body) {
  std::string code;
  std::string message;
  XmlCollector xml([&](const std::string& path, const std::string& text) {
    if (path == "Error/Code") code = text;
    if (path == "Error/Message") message = text;
  });
  if (!xml.Parse(body).ok() || code.empty()) return "";
  return message.empty() ? code : code + ": " + message;
}

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string bucket;
  std::string key;
  std::vector<std::pair<std::string, std::string>> query;  // unencoded
  std::vector<std::string> headers;                        // "Name: value"
  std::string_view body;
  int64_t range_first = -1;  // "Range: bytes=first-last" when >= 0
  int64_t range_last = -1;
};

struct HttpResponse {
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names

  bool transport_ok() const { return curl == CURLE_OK; }
  // A failure that may go away by itself: retry an idempotent request.
  bool transient() const {
    return !transport_ok() || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
  }
  std::string Describe() const {
    if (!transport_ok()) return "transport error: " + curl_error;
    std::string detail = ErrorDetail(body);
    return "HTTP " + std::to_string(status) + (detail.empty() ? "" : " (" + detail + ")");
  }
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    (*headers)[name] = std::string(value);
  }
  return size * count;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// A writable file that buffers and uploads on Sync()/Close().
class S3WritableFile final : public WritableFile {
 public:
  S3WritableFile(S3FileSystem* fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  ~S3WritableFile() override {
    if (!closed_) (void)Close();
  }
  Status Append(std::string_view bytes) override {
    if (closed_) return Status::IOError(path_, ": append after close");
    buffer_.append(bytes);
    uploaded_ = false;
    return Status::OK();
  }
  Status Sync() override {
    if (closed_) return Status::IOError(path_, ": sync after close");
    if (uploaded_) return Status::OK();
    TESSERA_RETURN_IF_ERROR(fs_->PutObject(path_, buffer_));
    uploaded_ = true;
    return Status::OK();
  }
  Status Close() override {
    if (closed_) return Status::IOError(path_, ": closed twice");
    Status st = uploaded_ ? Status::OK() : fs_->PutObject(path_, buffer_);
    closed_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    return st;
  }

 private:
  S3FileSystem* fs_;
  std::string path_;
  std::string buffer_;
  bool uploaded_ = false;
  bool closed_ = false;
};

// Objects that never change once written: cacheable. Judged by the directories right above
// the object (the table's root may itself lie under a prefix named "data"): <root>/data/F,
// <root>/deletions/F, <root>/indices/<uuid>/F, <root>/_versions/<N>.manifest.
bool IsImmutableKey(std::string_view key) {
  const size_t last = key.rfind('/');
  if (last == std::string_view::npos) return false;
  const std::string_view name = key.substr(last + 1);
  const std::string_view dirs = key.substr(0, last);
  const size_t parent_at = dirs.rfind('/');
  const std::string_view parent =
      parent_at == std::string_view::npos ? dirs : dirs.substr(parent_at + 1);
  std::string_view grandparent;
  if (parent_at != std::string_view::npos) {
    const std::string_view above = dirs.substr(0, parent_at);
    const size_t at = above.rfind('/');
    grandparent = at == std::string_view::npos ? above : above.substr(at + 1);
  }
  if (parent == "data" || parent == "deletions" || grandparent == "indices") return true;
  return parent == "_versions" && name.ends_with(".manifest");
}

}  // namespace

bool IsS3Uri(std::string_view path) { return path.starts_with(kScheme); }

S3Options S3Options::FromEnvironment() {
  S3Options options;
  const auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
  };
  options.access_key_id = env("AWS_ACCESS_KEY_ID");
  options.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  options.session_token = env("AWS_SESSION_TOKEN");
  std::string region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (!region.empty()) options.region = region;
  options.endpoint = env("AWS_ENDPOINT_URL_S3");
  if (options.endpoint.empty()) options.endpoint = env("AWS_ENDPOINT_URL");
  options.cache_dir = env("TESSERA_S3_CACHE_DIR");
  const std::string cache_bytes = env("TESSERA_S3_CACHE_BYTES");
  if (!cache_bytes.empty()) options.cache_bytes = std::atoll(cache_bytes.c_str());
  return options;
}

class S3FileSystem::Impl {
 public:
  explicit Impl(S3Options options) : options_(std::move(options)) {
    InitCurlOnce();
    while (!options_.endpoint.empty() && options_.endpoint.back() == '/') {
      options_.endpoint.pop_back();
    }
    if (options_.endpoint.empty()) {
      options_.endpoint = "https://s3." + options_.region + ".amazonaws.com";
    }
    if (!options_.cache_dir.empty() && options_.cache_bytes > 0) {
      cache_ = std::make_unique<ObjectCache>(options_.cache_dir, options_.cache_bytes);
    }
    sigv4_ = "aws:amz:" + options_.region + ":s3";
    credentials_ = options_.access_key_id + ":" + options_.secret_access_key;
  }
  ~Impl() {
    for (CURL* handle : free_handles_) curl_easy_cleanup(handle);
  }

  const S3Options& options() const { return options_; }
  ObjectCache* cache() { return cache_.get(); }

  S3Counters counters() const {
    S3Counters c;
    c.get = get_.load();
    c.put = put_.load();
    c.head = head_.load();
    c.list = list_.load();
    c.del = del_.load();
    c.retries = retries_.load();
    c.cache_hits = cache_hits_.load();
    return c;
  }
  void CountCacheHit() { ++cache_hits_; }

  // One attempt.
  HttpResponse Perform(const HttpRequest& request) {
    CountRequest(request);
    CURL* curl = Acquire();
    HttpResponse response;
    std::string url = options_.endpoint + "/" + request.bucket;
    if (!request.key.empty()) url += "/" + UriEncode(request.key, /*keep_slash=*/true);
    if (!request.query.empty()) {
      // SigV4 signs the canonical query: parameters sorted, names and values URI-encoded.
      std::vector<std::pair<std::string, std::string>> query = request.query;
      std::sort(query.begin(), query.end());
      url.push_back('?');
      for (size_t i = 0; i < query.size(); ++i) {
        if (i > 0) url.push_back('&');
        url += UriEncode(query[i].first, false) + "=" + UriEncode(query[i].second, false);
      }
    }
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (!options_.session_token.empty()) {
      headers =
          curl_slist_append(headers, ("x-amz-security-token: " + options_.session_token).c_str());
    }
    // (No "Expect:" to suppress 100-continue: curl would sign the header it then drops.)
    for (const std::string& header : request.headers) {
      headers = curl_slist_append(headers, header.c_str());
    }
    if (request.range_first >= 0) {
      const std::string range = "Range: bytes=" + std::to_string(request.range_first) + "-" +
                                std::to_string(request.range_last);
      headers = curl_slist_append(headers, range.c_str());
    }
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_.c_str());
    curl_easy_setopt(curl, CURLOPT_USERPWD, credentials_.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout_ms));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>(options_.low_speed_timeout_ms / 1000)));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
    if (request.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.method == "PUT" || request.method == "POST") {
      headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      // Never a null pointer: curl would then read the body from stdin.
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    } else if (request.method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    response.curl = curl_easy_perform(curl);
    if (response.curl != CURLE_OK) {
      response.curl_error = error[0] != '\0' ? error : curl_easy_strerror(response.curl);
    } else {
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    }
    curl_slist_free_all(headers);
    Release(curl);
    return response;
  }

  // Perform `request`, retrying transient failures with jittered exponential backoff when
  // `idempotent`. Returns the last response.
  HttpResponse Send(const HttpRequest& request, bool idempotent) {
    HttpResponse response;
    for (int attempt = 0;; ++attempt) {
      response = Perform(request);
      if (!response.transient() || !idempotent || attempt + 1 >= options_.max_attempts) break;
      ++retries_;
      Backoff(attempt);
    }
    return response;
  }

  void Backoff(int attempt) {
    const int64_t cap = std::min<int64_t>(options_.backoff_max_ms,
                                          options_.backoff_base_ms << std::min(attempt, 16));
    thread_local std::mt19937_64 rng(std::random_device{}());
    const int64_t sleep_ms = std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng);  // jitter
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  }

 private:
  void CountRequest(const HttpRequest& request) {
    const std::string& method = request.method;
    if (method == "GET") ++(request.key.empty() ? list_ : get_);  // bucket-level GET = listing
    if (method == "PUT" || method == "POST") ++put_;
    if (method == "HEAD") ++head_;
    if (method == "DELETE") ++del_;
  }

  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_handles_.empty()) {
        CURL* handle = free_handles_.back();
        free_handles_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL* handle) {
    curl_easy_reset(handle);  // keeps the handle's live connection for reuse
    std::lock_guard<std::mutex> lock(mu_);
    if (free_handles_.size() < 64) {
      free_handles_.push_back(handle);
      return;
    }
    curl_easy_cleanup(handle);
  }

  S3Options options_;
  std::string sigv4_;
  std::string credentials_;
  std::unique_ptr<ObjectCache> cache_;
  std::mutex mu_;
  std::vector<CURL*> free_handles_;  // guarded by mu_
  std::atomic<int64_t> get_{0}, put_{0}, head_{0}, list_{0}, del_{0}, retries_{0}, cache_hits_{0};
};

namespace {

Status ErrorFor(const HttpResponse& response, std::string_view what, std::string_view uri) {
  if (response.transport_ok() && response.status == 404) {
    return Status::NotFound(what, " ", uri, ": not found");
  }
  return Status::IOError("s3 ", what, " ", uri, ": ", response.Describe());
}

}  // namespace

Result<std::unique_ptr<S3FileSystem>> S3FileSystem::Create(S3Options options) {
  if (options.access_key_id.empty() || options.secret_access_key.empty()) {
    return Status::InvalidArgument(
        "s3: no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass them in "
        "S3Options)");
  }
  if (!options.endpoint.empty() && !options.endpoint.starts_with("http://") &&
      !options.endpoint.starts_with("https://")) {
    return Status::InvalidArgument("s3: endpoint '", options.endpoint,
                                   "' must start with http:// or https://");
  }
  return std::unique_ptr<S3FileSystem>(
      new S3FileSystem(std::make_unique<Impl>(std::move(options))));
}

S3FileSystem::S3FileSystem(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3FileSystem::~S3FileSystem() = default;

S3Counters S3FileSystem::counters() const { return impl_->counters(); }
const S3Options& S3FileSystem::options() const { return impl_->options(); }

Result<std::unique_ptr<WritableFile>> S3FileSystem::NewWritableFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(S3Path parsed, ParseS3Path(path));
  (void)parsed;
  return std::unique_ptr<WritableFile>(std::make_unique<S3WritableFile>(this, path));
}

Status S3FileSystem::PutObject(const std::string& path, std::string_view contents) {
  TESSERA_ASSIGN_OR_RETURN(S3Path parsed, ParseS3Path(path));
  const int64_t part = impl_->options().multipart_threshold;
  if (static_cast<int64_t>(contents.size()) <= part) {
    HttpRequest request;
    request.method = "PUT";
    request.bucket = parsed.bucket;
    request.key = parsed.key;
    request.body = contents;
    const HttpResponse response = impl_->Send(request, /*idempotent=*/true);
    if (response.transport_ok() && response.status / 100 == 2) return Status::OK();
    return ErrorFor(response, "put", path);
  }
  // Multipart: initiate, upload parts (each retried on its own), complete. Only for data files
  // under unique names: a commit never goes through here (RGW ignores conditions on complete).
  HttpRequest initiate;
  initiate.method = "POST";
  initiate.bucket = parsed.bucket;
  initiate.key = parsed.key;
  initiate.query = {{"uploads", ""}};
  HttpResponse response = impl_->Send(initiate, /*idempotent=*/true);
  if (!response.transport_ok() || response.status / 100 != 2) {
    return ErrorFor(response, "initiate multipart upload", path);
  }
  std::string upload_id;
  XmlCollector xml([&](const std::string& p, const std::string& text) {
    if (p == "InitiateMultipartUploadResult/UploadId") upload_id = text;
  });
  TESSERA_RETURN_IF_ERROR(xml.Parse(response.body));
  if (upload_id.empty()) return Status::IOError("s3 multipart upload ", path, ": no upload id");
  std::string complete = "<CompleteMultipartUpload>";
  Status failed = Status::OK();
  int part_number = 1;
  for (size_t offset = 0; offset < contents.size(); offset += static_cast<size_t>(part)) {
    HttpRequest upload;
    upload.method = "PUT";
    upload.bucket = parsed.bucket;
    upload.key = parsed.key;
    upload.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
    upload.body = contents.substr(offset, static_cast<size_t>(part));
    response = impl_->Send(upload, /*idempotent=*/true);
    if (!response.transport_ok() || response.status / 100 != 2) {
      failed = ErrorFor(response, "upload part", path);
      break;
    }
    complete += "<Part><PartNumber>" + std::to_string(part_number) + "</PartNumber><ETag>" +
                response.headers["etag"] + "</ETag></Part>";
    ++part_number;
  }
  complete += "</CompleteMultipartUpload>";
  if (failed.ok()) {
    HttpRequest finish;
    finish.method = "POST";
    finish.bucket = parsed.bucket;
    finish.key = parsed.key;
    finish.query = {{"uploadId", upload_id}};
    finish.body = complete;
    response = impl_->Send(finish, /*idempotent=*/true);
    // A 200 can still carry an error document.
    if (response.transport_ok() && response.status / 100 == 2 &&
        response.body.find("<Error>") == std::string::npos) {
      return Status::OK();
    }
    failed = ErrorFor(response, "complete multipart upload", path);
  }
  HttpRequest abort;
  abort.method = "DELETE";
  abort.bucket = parsed.bucket;
  abort.key = parsed.key;
  abort.query = {{"uploadId", upload_id}};
  (void)impl_->Send(abort, /*idempotent=*/true);
  return failed;
}

Status S3FileSystem::CreateExclusive(const std::string& path, std::string_view contents) {
  TESSERA_ASSIGN_OR_RETURN(S3Path parsed, ParseS3Path(path));
  HttpRequest request;
  request.method = "PUT";
  request.bucket = parsed.bucket;
  request.key = parsed.key;
  request.headers = {"If-None-Match: *"};
  request.body = contents;
  for (int attempt = 0; attempt < impl_->options().max_attempts; ++attempt) {
    const HttpResponse response = impl_->Perform(request);
    if (response.transport_ok() && response.status / 100 == 2) return Status::OK();
    if (response.transport_ok() && response.status == 412) {
      return Status::AlreadyExists(path, " exists (another writer committed first)");
    }
    if (response.transport_ok() && response.status == 409) {
      // ConditionalRequestConflict: a concurrent conditional write to the same key is in
      // flight; the object may or may not appear. Resolve like an unknown outcome.
    } else if (!response.transient()) {
      return ErrorFor(response, "conditional put", path);
    }
    // Unknown outcome: read the object back. Our bytes: we committed. Other bytes: someone
    // else did. Absent: nothing was applied, and sending the conditional PUT again is safe.
    Result<std::string> current = ReadFile(path);
    if (current.ok()) {
      if (*current == contents) return Status::OK();
      return Status::AlreadyExists(path, " exists (another writer committed first)");
    }
    if (!current.status().IsNotFound()) {
      return current.status().WithContext("resolving the outcome of a conditional put after ",
                                          response.Describe());
    }
    impl_->Backoff(attempt);
  }
  return Status::IOError("s3 conditional put ", path, ": no definite outcome after ",
                         impl_->options().max_attempts, " attempts (nothing committed)");
}

Result<std::string> S3FileSystem::ReadFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(S3Path parsed, ParseS3Path(path));
  const bool cacheable = impl_->cache() != nullptr && IsImmutableKey(parsed.key);
  if (cacheable) {
    if (std::optional<std::string> hit = impl_->cache()->Get(path)) {
      impl_->CountCacheHit();
      return std::move(*hit);
    }
  }
  const int64_t chunk = std::max<int64_t>(impl_->options().ranged_get_bytes, 1 << 20);
  HttpRequest request;
  request.bucket = parsed.bucket;
  request.key = parsed.key;
  request.range_first = 0;
  request.range_last = chunk - 1;
  HttpResponse first = impl_->Send(request, /*idempotent=*/true);
  if (first.transport_ok() && first.status == 416) {  // an empty object
    request.range_first = -1;
    first = impl_->Send(request, /*idempotent=*/true);
  }
  if (!first.transport_ok() || first.status / 100 != 2) return ErrorFor(first, "get", path);
  std::string bytes = std::move(first.body);
  if (first.status == 206) {
    // "Content-Range: bytes 0-N/TOTAL": fetch the rest as parallel ranged GETs.
    const std::string& range = first.headers["content-range"];
    const size_t slash = range.rfind('/');
    const int64_t total = slash == std::string::npos ? -1 : std::atoll(range.c_str() + slash + 1);
    if (total < 0) return Status::IOError("s3 get ", path, ": bad Content-Range '", range, "'");
    if (total > static_cast<int64_t>(bytes.size())) {
      const int64_t have = static_cast<int64_t>(bytes.size());
      const int64_t pieces = (total - have + chunk - 1) / chunk;
      std::vector<HttpResponse> parts(static_cast<size_t>(pieces));
      std::atomic<int64_t> next{0};
      const int threads = static_cast<int>(std::min<int64_t>(pieces, 8));
      std::vector<std::thread> workers;
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
          for (int64_t i = next.fetch_add(1); i < pieces; i = next.fetch_add(1)) {
            HttpRequest part = request;
            part.range_first = have + i * chunk;
            part.range_last = std::min(total, have + (i + 1) * chunk) - 1;
            parts[static_cast<size_t>(i)] = impl_->Send(part, /*idempotent=*/true);
          }
        });
      }
      for (std::thread& worker : workers) worker.join();
      bytes.reserve(static_cast<size_t>(total));
      for (const HttpResponse& part : parts) {
        if (!part.transport_ok() || part.status / 100 != 2) return ErrorFor(part, "get", path);
        bytes += part.body;
      }
    }
    if (static_cast<int64_t>(bytes.size()) != total) {
      return Status::IOError("s3 get ", path, ": read ", bytes.size(), " of ", total, " bytes");
    }
  }
  if (cacheable) impl_->cache()->Put(path, bytes);
  return bytes;
}

Result<std::shared_ptr<const MappedFile>> S3FileSystem::MapFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return MappedFileFromString(std::move(bytes));
}

Result<std::vector<FileInfo>> S3FileSystem::ListDir(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(S3Path parsed, ParseS3Path(path));
  const std::string prefix = parsed.key.empty() ? "" : parsed.key + "/";
  std::vector<FileInfo> entries;
  std::string token;
  while (true) {
    HttpRequest request;
    request.bucket = parsed.bucket;
    request.query = {{"list-type", "2"}, {"prefix", prefix}, {"delimiter", "/"}};
    if (!token.empty()) request.query.push_back({"continuation-token", token});
    const HttpResponse response = impl_->Send(request, /*idempotent=*/true);
    if (!response.transport_ok() || response.status / 100 != 2) {
      return ErrorFor(response, "list", path);
    }
    bool truncated = false;
    token.clear();
    FileInfo current;
    XmlCollector xml([&](const std::string& p, const std::string& text) {
      if (p == "ListBucketResult/Contents/Key") {
        current.name = text.substr(std::min(text.size(), prefix.size()));
      } else if (p == "ListBucketResult/Contents/Size") {
        current.size_bytes = std::atoll(text.c_str());
      } else if (p == "ListBucketResult/Contents/LastModified") {
        current.mtime_us = ParseIsoTimeMicros(text);
      } else if (p == "ListBucketResult/Contents") {
        if (!current.name.empty()) entries.push_back(current);
        current = FileInfo();
      } else if (p == "ListBucketResult/CommonPrefixes/Prefix") {
        std::string name = text.substr(std::min(text.size(), prefix.size()));
        while (!name.empty() && name.back() == '/') name.pop_back();
        if (!name.empty()) entries.push_back(FileInfo{name, true, 0, 0});
      } else if (p == "ListBucketResult/IsTruncated") {
        truncated = text == "true";
      } else if (p == "ListBucketResult/NextContinuationToken") {
        token = text;
      }
    });
    TESSERA_RETURN_IF_ERROR(xml.Parse(response.body));
    if (!truncated || token.empty()) break;
  }
  if (entries.empty()) return Status::NotFound("directory ", path, ": no objects below it");
  std::sort(entries.begin(), entries.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
  return entries;
}

Result<FileInfo> S3FileSystem::Stat(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(S3Path parsed, ParseS3Path(path));
  FileInfo info;
  info.name = parsed.key.substr(parsed.key.find_last_of('/') + 1);
  if (!parsed.key.empty()) {
    HttpRequest request;
    request.method = "HEAD";
    request.bucket = parsed.bucket;
    request.key = parsed.key;
    HttpResponse response = impl_->Send(request, /*idempotent=*/true);
    if (response.transport_ok() && response.status / 100 == 2) {
      info.size_bytes = std::atoll(response.headers["content-length"].c_str());
      // "Last-Modified: Sun, 29 Nov 2026 02:31:00 GMT"
      std::tm tm{};
      if (strptime(response.headers["last-modified"].c_str(), "%a, %d %b %Y %H:%M:%S", &tm) !=
          nullptr) {
        info.mtime_us = static_cast<int64_t>(timegm(&tm)) * 1000000;
      }
      return info;
    }
    if (!(response.transport_ok() && response.status == 404)) {
      return ErrorFor(response, "head", path);
    }
  }
  // Not an object: a directory if some key lies below it.
  HttpRequest request;
  request.bucket = parsed.bucket;
  request.query = {{"list-type", "2"},
                   {"prefix", parsed.key.empty() ? "" : parsed.key + "/"},
                   {"max-keys", "1"}};
  const HttpResponse response = impl_->Send(request, /*idempotent=*/true);
  if (!response.transport_ok() || response.status / 100 != 2) {
    return ErrorFor(response, "list", path);
  }
  bool any = false;
  XmlCollector xml([&](const std::string& p, const std::string&) {
    if (p == "ListBucketResult/Contents/Key") any = true;
  });
  TESSERA_RETURN_IF_ERROR(xml.Parse(response.body));
  if (!any) return Status::NotFound(path, ": no such object or directory");
  info.is_dir = true;
  return info;
}

Result<bool> S3FileSystem::Exists(const std::string& path) {
  Result<FileInfo> info = Stat(path);
  if (info.ok()) return true;
  if (info.status().IsNotFound()) return false;
  return info.status();
}

Status S3FileSystem::CreateDirs(const std::string& path) {
  return ParseS3Path(path).status();  // prefixes exist implicitly
}

Status S3FileSystem::DeleteFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(S3Path parsed, ParseS3Path(path));
  HttpRequest request;
  request.method = "DELETE";
  request.bucket = parsed.bucket;
  request.key = parsed.key;
  const HttpResponse response = impl_->Send(request, /*idempotent=*/true);
  if (response.transport_ok() && (response.status / 100 == 2 || response.status == 404)) {
    return Status::OK();  // S3 deletes are idempotent: a missing key is not an error
  }
  return ErrorFor(response, "delete", path);
}

Status S3FileSystem::DeleteDirRecursive(const std::string& path) {
  auto listing = ListDir(path);
  if (!listing.ok()) return listing.status().IsNotFound() ? Status::OK() : listing.status();
  for (const FileInfo& entry : *listing) {
    const std::string child = JoinPath(path, entry.name);
    TESSERA_RETURN_IF_ERROR(entry.is_dir ? DeleteDirRecursive(child) : DeleteFile(child));
  }
  return Status::OK();
}

Status S3FileSystem::SyncDir(const std::string& path) {
  return ParseS3Path(path).status();  // a PUT is durable when it returns
}

Status S3FileSystem::CreateBucket(std::string_view uri) {
  TESSERA_ASSIGN_OR_RETURN(S3Path parsed, ParseS3Path(uri));
  HttpRequest request;
  request.method = "PUT";
  request.bucket = parsed.bucket;
  const HttpResponse response = impl_->Send(request, /*idempotent=*/true);
  if (response.transport_ok() && response.status / 100 == 2) return Status::OK();
  if (response.transport_ok() && response.status == 409 &&
      response.body.find("BucketAlreadyOwnedByYou") != std::string::npos) {
    return Status::OK();
  }
  return ErrorFor(response, "create bucket", uri);
}

Result<FileSystem*> FileSystemFor(std::string_view uri, FileSystem* configured) {
  if (configured != nullptr) return configured;
  if (IsS3Uri(uri)) return DefaultS3FileSystem();
  return LocalFileSystem();
}

Result<FileSystem*> DefaultS3FileSystem() {
  static std::mutex mu;
  static S3FileSystem* fs = nullptr;  // never destroyed: used until exit
  std::lock_guard<std::mutex> lock(mu);
  if (fs == nullptr) {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<S3FileSystem> created,
                             S3FileSystem::Create(S3Options::FromEnvironment()));
    fs = created.release();
  }
  return fs;
}

}  // namespace tessera::io
