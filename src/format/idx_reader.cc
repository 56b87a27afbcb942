#include "format/idx_reader.h"

#include <zlib.h>

#include <memory>

namespace tessera::format {
namespace {

struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};

}  // namespace

Result<IdxData> ReadIdxFile(const std::string& path, int64_t max_items) {
  // gzopen reads plain files transparently too.
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) return Status::NotFound("cannot open IDX file '", path, "'");
  auto read_exact = [&](void* out, size_t n) -> bool {
    return gzread(file.get(), out, static_cast<unsigned>(n)) == static_cast<int>(n);
  };
  uint8_t magic[4];
  if (!read_exact(magic, 4) || magic[0] != 0 || magic[1] != 0) {
    return Status::Corruption("'", path, "' is not an IDX file (bad magic)");
  }
  if (magic[2] != 0x08) {
    return Status::NotSupported("'", path, "': only unsigned-byte IDX data is supported");
  }
  const int num_dims = magic[3];
  if (num_dims < 1 || num_dims > 4) return Status::Corruption("'", path, "': bad IDX rank");
  std::vector<int64_t> dims(num_dims);
  for (int d = 0; d < num_dims; ++d) {
    uint8_t be[4];
    if (!read_exact(be, 4)) return Status::Corruption("'", path, "': truncated IDX header");
    dims[d] = (int64_t{be[0]} << 24) | (int64_t{be[1]} << 16) | (int64_t{be[2]} << 8) | be[3];
  }
  IdxData data;
  data.num_items = dims[0];
  data.item_size = 1;
  for (int d = 1; d < num_dims; ++d) data.item_size *= dims[d];
  if (max_items >= 0 && max_items < data.num_items) data.num_items = max_items;
  const int64_t total = data.num_items * data.item_size;
  if (total < 0 || total > (int64_t{1} << 34))
    return Status::Corruption("'", path, "': bad IDX size");
  data.values.resize(static_cast<size_t>(total));
  int64_t done = 0;
  while (done < total) {
    const int64_t chunk = std::min<int64_t>(total - done, 1 << 30);
    if (!read_exact(data.values.data() + done, static_cast<size_t>(chunk))) {
      return Status::Corruption("'", path, "': truncated IDX data");
    }
    done += chunk;
  }
  return data;
}

std::vector<float> IdxToFloatVectors(const IdxData& data) {
  std::vector<float> out(data.values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(data.values[i]) / 255.0f;
  return out;
}

}  // namespace tessera::format
