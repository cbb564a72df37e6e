// What the secure module's sources share about OpenSSL: its error queue as one Error line, and
// each suite's EVP algorithms.
#pragma once

#include <openssl/evp.h>

#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/cipher_suite.hpp"

namespace zc::secure {

// Drains OpenSSL's error queue into one Error; `fallback` is the detail when the queue is empty.
Error openssl_error(Errc code, std::string operation, std::string fallback = "OpenSSL failed");

const EVP_CIPHER* suite_cipher(CipherSuite suite) noexcept;
const EVP_MD* suite_digest(CipherSuite suite) noexcept;

}  // namespace zc::secure
