// Cryptographic helpers over libsodium: random tokens, hashing of tokens, argon2id passwords.
// Thread-safe after InitCrypto() has returned once (main calls it before starting threads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tandem {

// Must be called once at start-up. Returns false when libsodium cannot initialise.
bool InitCrypto();
// A URL-safe random token carrying `bytes` bytes of entropy.
std::string RandomToken(size_t bytes = 24);
// Upper-case, unambiguous code of `length` characters.
std::string RandomCode(size_t length);
// A tracking code: nine letters of the millisecond it was made (`now_ms`; codes made later
// compare greater, so that new codes are added at one end of an index instead of all over it:
// with the second alone, a flash sale's ten thousand codes a second still landed on random pages
// of that second's part of the index), then `random_length` letters of RandomCode, which carry
// its secrecy.
std::string TimeOrderedCode(int64_t now_ms, size_t random_length);
// A 64-bit keyed hash (SipHash-2-4) under a key drawn at random once per process: for hash
// tables whose keys come from outside, so that no one can choose keys that collide.
uint64_t ShortHash(std::string_view data);
// Hex of a 256-bit BLAKE2b hash: what is stored in place of a token.
std::string HashToken(std::string_view token);
// The argon2id parameters of new password hashes: OWASP's minimum (19 MiB, two passes, one
// lane; docs/security.md gives the time one takes). A stored hash carries its own parameters
// ("$argon2id$v=19$m=19456,t=2,p=1$..."), so changing these leaves old hashes verifiable; they
// are replaced at the next successful login (PasswordNeedsRehash).
inline constexpr unsigned long long kPasswordHashPasses = 2;
inline constexpr size_t kPasswordHashMemoryBytes = 19 * 1024 * 1024;

// argon2id hash string with the parameters above, or empty on out-of-memory. Slow on purpose
// (about 20-25 ms of a core here): call it on the password-hashing threads, never inside a
// transaction.
std::string HashPassword(std::string_view password);
// The same with other parameters: for tests that need a hash made the way an older Tandem made it.
std::string HashPasswordWith(std::string_view password, unsigned long long passes,
                             size_t memory_bytes);
// Whether `password` matches `hash` (any argon2 hash string, whatever its parameters).
bool VerifyPassword(std::string_view password, const std::string& hash);
// Whether two secrets are equal, in time that does not depend on where they differ.
bool SecretsEqual(std::string_view a, std::string_view b);
// Whether `hash` was made with other parameters than HashPassword's (or is not an argon2id
// hash string at all): then it is to be replaced after the password was verified.
bool PasswordNeedsRehash(const std::string& hash);

}  // namespace tandem
