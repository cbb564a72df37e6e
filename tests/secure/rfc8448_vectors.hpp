// RFC 8448 §3 (Simple 1-RTT Handshake, TLS_AES_128_GCM_SHA256): the published values the secure
// tests check against, transcribed from the RFC's text.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace zc::test::rfc8448 {

// "a1 1a f9 ..." -> bytes; whitespace is ignored.
inline std::vector<std::uint8_t> hex(std::string_view text) {
  auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::vector<std::uint8_t> bytes;
  int high = -1;
  for (char c : text) {
    if (c == ' ') continue;
    if (high < 0) {
      high = digit(c);
    } else {
      bytes.push_back(static_cast<std::uint8_t>(high * 16 + digit(c)));
      high = -1;
    }
  }
  return bytes;
}

// {server} extract secret "handshake" and the transcript hash of ClientHello..ServerHello.
inline constexpr std::string_view kHandshakeSecret =
    "1d c8 26 e9 36 06 aa 6f dc 0a ad c1 2f 74 1b 01 04 6a a6 b9 9f 69 1e d2 21 a9 f0 ca 04 3f be "
    "ac";
inline constexpr std::string_view kHelloHash =
    "86 0c 06 ed c0 78 58 ee 8e 78 f0 e7 42 8c 58 ed d6 b4 3f 2c a3 e6 e9 5f 02 ed 06 3c f0 e1 ca "
    "d8";
inline constexpr std::string_view kEmptyHash =
    "e3 b0 c4 42 98 fc 1c 14 9a fb f4 c8 99 6f b9 24 27 ae 41 e4 64 9b 93 4c a4 95 99 1b 78 52 b8 "
    "55";
// derive secret "tls13 c hs traffic" / "tls13 s hs traffic" / "tls13 derived" (for master).
inline constexpr std::string_view kClientHandshakeTraffic =
    "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a "
    "21";
inline constexpr std::string_view kServerHandshakeTraffic =
    "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad "
    "38";
inline constexpr std::string_view kDerivedForMaster =
    "43 de 77 e0 c7 77 13 85 9a 94 4d b9 db 25 90 b5 31 90 a6 5b 3e e2 e4 f1 2d d7 a0 bb 7c e2 54 "
    "b4";
// derive write traffic keys for handshake data.
inline constexpr std::string_view kServerHandshakeKey =
    "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc";
inline constexpr std::string_view kServerHandshakeIv = "5d 31 3e b2 67 12 76 ee 13 00 0b 30";
inline constexpr std::string_view kClientHandshakeKey =
    "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01";
inline constexpr std::string_view kClientHandshakeIv = "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f";
// derive secret "tls13 c ap traffic" / "tls13 s ap traffic".
inline constexpr std::string_view kClientApplicationTraffic =
    "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 "
    "a5";
inline constexpr std::string_view kServerApplicationTraffic =
    "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 "
    "43";
// derive write traffic keys for application data.
inline constexpr std::string_view kServerApplicationKey =
    "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56";
inline constexpr std::string_view kServerApplicationIv = "cf 78 2b 88 dd 83 54 9a ad f1 e9 84";
inline constexpr std::string_view kClientApplicationKey =
    "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51";
inline constexpr std::string_view kClientApplicationIv = "5b 78 92 3d ee 08 57 90 33 e5 23 d9";

// {client} send handshake record: the client's Finished under its handshake keys (sequence 0).
inline constexpr std::string_view kClientFinishedRecord =
    "17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 51 7f e9 b9 3c 7a 4b "
    "fc"
    "44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7 26 c4 05 46";
// {server} send handshake record: NewSessionTicket, the server's first application-key record.
inline constexpr std::string_view kServerTicketRecord =
    "17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24 0e 6c ff ac 11 6e 95 "
    "d4"
    "1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a 01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 "
    "a3"
    "8e fb cf 57 53 ad 8e f1 70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 "
    "e0"
    "9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15 13 98 91 d5 e4 c5 b4 "
    "06"
    "f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77 f8 1b 5a b0 5b 94 c0 13 46 75 5f 69 23 2c 86 "
    "51"
    "9d 86 cb ee ac 87 aa c3 47 d1 43 f9 60 5d 64 f6 50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c "
    "74"
    "bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96 12 9c 81 53 55 6b 3b 6c 67 79 b3 7b f1 "
    "59"
    "85 68 4f";
// {client} / {server} send application_data record: 50 bytes 00 01 02 ... 31 each.
inline constexpr std::string_view kClientApplicationRecord =
    "17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc ab "
    "3f"
    "2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea "
    "e6"
    "3a ee bb 21 69 49 15 e4";
inline constexpr std::string_view kServerApplicationRecord =
    "17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc 32 25 d0 5f 82 aa 1b "
    "36"
    "e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8 fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 "
    "54"
    "0d d0 32 e1 67 c2 95 5d";
// {client} / {server} send alert record: close_notify (client sequence 1, server sequence 2).
inline constexpr std::string_view kClientAlertRecord =
    "17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3";
inline constexpr std::string_view kServerAlertRecord =
    "17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9";

}  // namespace zc::test::rfc8448
