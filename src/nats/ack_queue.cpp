#include "ack_queue.hpp"

#include <algorithm>

namespace zc::nats::detail {

AckQueue::~AckQueue() {
  drop_all();
}

std::size_t AckQueue::drop_all() noexcept {
  for (Entry& entry : entries_) natsMsg_Destroy(entry.msg);
  const std::size_t dropped = entries_.size();
  entries_.clear();
  return dropped;
}

void AckQueue::push(std::uint32_t chunk, natsMsg* msg) {
  entries_.push_back({chunk, msg});
}

void AckQueue::ack(Entry& entry) {
  // Not waiting for the server's confirmation: a lost ack means one redelivery, flagged as a
  // duplicate downstream by its stream sequence.
  if (natsMsg_Ack(entry.msg, nullptr) == NATS_OK) {
    ++acked_;
  } else {
    ++ack_failures_;
  }
  natsMsg_Destroy(entry.msg);
  entry.msg = nullptr;
}

void AckQueue::ack_released(const Publisher& publisher) {
  for (Entry& entry : entries_) {
    if (publisher.holders(entry.chunk) == 0) ack(entry);
  }
  std::erase_if(entries_, [](const Entry& e) { return e.msg == nullptr; });
}

}  // namespace zc::nats::detail
