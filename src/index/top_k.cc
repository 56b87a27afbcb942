#include "index/top_k.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace tessera::index {
namespace {

// Never reserve more up front than this many entries; a large k grows on demand.
constexpr size_t kMaxInitialReserve = 1024;

}  // namespace

TopK::TopK(int32_t k) : k_(k > 0 ? static_cast<size_t>(k) : 0) {
  heap_.reserve(std::min(k_, kMaxInitialReserve));
  threshold_ = EmptyThreshold();
}

float TopK::EmptyThreshold() const {
  return k_ == 0 ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
}

void TopK::PushSlow(float distance, uint64_t row_id) {
  const Neighbor candidate{distance, row_id};
  if (heap_.size() < k_) {
    heap_.push_back(candidate);
    SiftUp(heap_.size() - 1);
    if (heap_.size() == k_) threshold_ = heap_[0].distance;
    return;
  }
  // Full (or k == 0 with a -infinity distance): replace the worst if the candidate ranks before.
  if (heap_.empty() || !NeighborLess(candidate, heap_[0])) return;
  heap_[0] = candidate;
  SiftDown(0);
  threshold_ = heap_[0].distance;
}

void TopK::SiftUp(size_t idx) {
  const Neighbor moving = heap_[idx];
  while (idx > 0) {
    const size_t parent = (idx - 1) / 2;
    if (!NeighborLess(heap_[parent], moving)) break;
    heap_[idx] = heap_[parent];
    idx = parent;
  }
  heap_[idx] = moving;
}

void TopK::SiftDown(size_t idx) {
  const size_t size = heap_.size();
  const Neighbor moving = heap_[idx];
  while (true) {
    size_t child = 2 * idx + 1;
    if (child >= size) break;
    if (child + 1 < size && NeighborLess(heap_[child], heap_[child + 1])) ++child;
    if (!NeighborLess(moving, heap_[child])) break;
    heap_[idx] = heap_[child];
    idx = child;
  }
  heap_[idx] = moving;
}

void TopK::Merge(TopK&& other) {
  if (&other == this) return;
  for (const Neighbor& neighbor : other.heap_) Push(neighbor.distance, neighbor.row_id);
  other.heap_.clear();
  other.threshold_ = other.EmptyThreshold();
}

std::vector<Neighbor> TopK::Take() {
  std::vector<Neighbor> result = std::move(heap_);
  std::sort(result.begin(), result.end(), NeighborLess);
  heap_ = std::vector<Neighbor>();
  threshold_ = EmptyThreshold();
  return result;
}

}  // namespace tessera::index
