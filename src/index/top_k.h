// Top-k selection for vector search: keep the k nearest (smallest distance) candidates of a
// stream, in O(log k) per kept candidate and one comparison per rejected one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tessera::index {

// One search result: a row id and its distance to the query (smaller is better).
struct Neighbor {
  float distance;
  uint64_t row_id;

  friend bool operator==(const Neighbor&, const Neighbor&) = default;
};

// Return true if `a` ranks before `b`: smaller distance, ties broken by smaller row id.
inline bool NeighborLess(const Neighbor& a, const Neighbor& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.row_id < b.row_id);
}

// A bounded max-heap that keeps the k best (distance, row_id) pairs pushed into it, ordered by
// NeighborLess. A NaN distance is never kept. The same row id pushed twice is kept twice.
// Not thread-safe: give each thread its own TopK and Merge() them.
class TopK {
 public:
  // REQUIRES: k >= 0. A TopK of k == 0 keeps nothing.
  explicit TopK(int32_t k);

  TopK(TopK&&) = default;
  TopK& operator=(TopK&&) = default;
  TopK(const TopK&) = delete;
  TopK& operator=(const TopK&) = delete;

  // Offer a candidate. Cheap (one comparison) when it is worse than the current k-th.
  void Push(float distance, uint64_t row_id) {
    if (!(distance <= threshold_)) return;  // worse than the k-th, or NaN
    PushSlow(distance, row_id);
  }

  // Return the distance a candidate must not exceed to be kept: +infinity until k candidates
  // are held, then the k-th best distance (-infinity when k == 0). A candidate whose distance
  // equals the threshold is kept only if its row id is smaller than the k-th's.
  float threshold() const { return threshold_; }

  // Push every candidate of `other` into this one (this one keeps its own k); `other` is left
  // empty.
  void Merge(TopK&& other);

  // Return the kept candidates best first (NeighborLess) and leave this TopK empty, ready for
  // reuse with the same k.
  std::vector<Neighbor> Take();

  size_t k() const { return k_; }
  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

 private:
  void PushSlow(float distance, uint64_t row_id);
  void SiftUp(size_t idx);
  void SiftDown(size_t idx);
  float EmptyThreshold() const;

  size_t k_;
  // A max-heap under NeighborLess: heap_[0] is the worst kept candidate.
  std::vector<Neighbor> heap_;
  float threshold_;
};

}  // namespace tessera::index
