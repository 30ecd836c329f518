#include "tandem/base/crypto.h"

#include <sodium.h>

#include <array>
#include <cstring>
#include <vector>

namespace tandem {
namespace {

// Fills `out` from a pool of the kernel's random bytes kept per thread, drawn 256 at a time: one
// system call serves about ten tokens, where a flash session drew three and paid a call for
// each. Bytes are wiped from the pool as they are handed out, and never handed out twice.
// (Tandem never forks, which would copy a pool into the child.)
void RandomBytes(void* out, size_t n) {
  constexpr size_t kPool = 256;
  thread_local std::array<unsigned char, kPool> pool;
  thread_local size_t left = 0;
  if (n > kPool) {
    randombytes_buf(out, n);
    return;
  }
  if (n > left) {
    randombytes_buf(pool.data(), kPool);
    left = kPool;
  }
  unsigned char* from = pool.data() + (kPool - left);
  std::memcpy(out, from, n);
  sodium_memzero(from, n);
  left -= n;
}

}  // namespace

bool InitCrypto() { return sodium_init() >= 0; }

std::string RandomToken(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  RandomBytes(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

namespace {
// The letters of codes people read out: no 0/O or 1/I. In ASCII order, so that TimeOrderedCode's
// larger numbers give greater strings.
constexpr char kCodeLetters[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
static_assert(sizeof(kCodeLetters) - 1 == 32, "a random byte's low 5 bits pick a letter evenly");
}  // namespace

std::string RandomCode(size_t length) {
  // One draw of random bytes, not one per letter.
  std::string out(length, '\0');
  RandomBytes(out.data(), out.size());
  for (char& c : out) c = kCodeLetters[static_cast<unsigned char>(c) & 31];
  return out;
}

std::string TimeOrderedCode(int64_t now_ms, size_t random_length) {
  constexpr int kLetters = 9;  // 45 bits of milliseconds: until the year 3084
  uint64_t ms = now_ms > 0 ? static_cast<uint64_t>(now_ms) : 0;
  std::string out(kLetters, '\0');
  for (int i = kLetters - 1; i >= 0; --i, ms >>= 5) out[i] = kCodeLetters[ms & 31];
  return out + RandomCode(random_length);
}

uint64_t ShortHash(std::string_view data) {
  static const auto key = [] {
    std::array<unsigned char, crypto_shorthash_KEYBYTES> k;
    randombytes_buf(k.data(), k.size());
    return k;
  }();
  std::array<unsigned char, crypto_shorthash_BYTES> out;
  crypto_shorthash(out.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                   key.data());
  uint64_t h;
  std::memcpy(&h, out.data(), sizeof h);
  return h;
}

std::string HashToken(std::string_view token) {
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

static_assert(kPasswordHashPasses >= crypto_pwhash_OPSLIMIT_MIN &&
              kPasswordHashMemoryBytes >= crypto_pwhash_MEMLIMIT_MIN);
static_assert(crypto_pwhash_ALG_DEFAULT == crypto_pwhash_ALG_ARGON2ID13,
              "crypto_pwhash_str makes argon2id hashes");

std::string HashPassword(std::string_view password) {
  return HashPasswordWith(password, kPasswordHashPasses, kPasswordHashMemoryBytes);
}

std::string HashPasswordWith(std::string_view password, unsigned long long passes,
                             size_t memory_bytes) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), passes, memory_bytes) != 0) {
    return {};
  }
  return out;
}

bool PasswordNeedsRehash(const std::string& hash) {
  // 1: other parameters; -1: not an argon2id hash string.
  return crypto_pwhash_str_needs_rehash(hash.c_str(), kPasswordHashPasses,
                                        kPasswordHashMemoryBytes) != 0;
}

bool VerifyPassword(std::string_view password, const std::string& hash) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tandem
