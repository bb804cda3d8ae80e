/* The AWS event-stream decoder (`application/vnd.amazon.eventstream`, what
 * InvokeEndpointWithResponseStream answers with), incremental, with the rules of botocore
 * 1.44.8's EventStreamBuffer (botocore/eventstream.py), checks in its order:
 *
 *  1. as soon as 12 bytes are there, the prelude (total_length, headers_length, CRC): its CRC
 *     (ChecksumMismatch), headers_length over 128 KiB (InvalidHeadersLength), then a payload
 *     (total_length - headers_length - 16) over 24 MiB (InvalidPayloadLength);
 *  2. once total_length bytes are there, the message CRC (ChecksumMismatch), then the headers
 *     one by one (DuplicateHeader, or what botocore's unpacking raises on a malformed one).
 *
 * Frames may be split at any byte across feeds. botocore's leniencies are kept where its
 * result does not depend on how the stream was split: a header block whose last value (string,
 * byte array, uuid) or name is cut short by the end of the block gives the shorter value (a
 * cut name then fails for the missing type byte, as botocore's struct.unpack does); a
 * headers_length that leaves no room for a payload (total_length < headers_length + 16) gives an
 * empty payload, with the header block read from the message's own bytes (its CRC included),
 * and a total_length under 16 (even under 12: the next message then starts inside this one's
 * prelude) is taken as it is. Two cases differ, reported by their own codes: a header block that
 * runs past the end of the message (botocore reads the next message's bytes as headers, so
 * its result depends on where the stream was split) and a total_length under 4 (botocore's
 * struct.error for the message CRC).
 *
 * Memory: a feed is borrowed, not copied (see smrt_es_feed); the decoder copies only what a
 * frame cut by the end of a feed needs (at most one frame: 12 + 128 KiB + 24 MiB + 4 bytes once
 * the prelude passed its checks), or everything handed to it by smrt_es_prepare/commit, which
 * let a reader receive straight into the decoder's buffer.
 *
 * No Python.h; no GIL needed. A decoder is used by one thread at a time; the CRC functions
 * from any thread. Takes untrusted input of any length and content (fuzzed: fuzz/). */
#ifndef SMRT_EVENTSTREAM_H
#define SMRT_EVENTSTREAM_H

#include <stddef.h>
#include <stdint.h>

#define SMRT_ES_PRELUDE_LEN 12
#define SMRT_ES_MAX_HEADERS_LENGTH (128 * 1024)       /* botocore's _MAX_HEADERS_LENGTH */
#define SMRT_ES_MAX_PAYLOAD_LENGTH (24 * 1024 * 1024) /* botocore's _MAX_PAYLOAD_LENGTH */

/* Header value types, by their wire ids. */
enum {
    SMRT_ES_TRUE = 0,
    SMRT_ES_FALSE = 1,
    SMRT_ES_BYTE = 2,      /* int8 */
    SMRT_ES_SHORT = 3,     /* int16 */
    SMRT_ES_INT = 4,       /* int32 */
    SMRT_ES_LONG = 5,      /* int64 */
    SMRT_ES_BYTES = 6,     /* u16 length + bytes */
    SMRT_ES_STRING = 7,    /* u16 length + UTF-8 (not checked here) */
    SMRT_ES_TIMESTAMP = 8, /* int64, milliseconds since the epoch */
    SMRT_ES_UUID = 9,      /* 16 bytes */
};

/* What smrt_es_next returns (and SMRT_ENOMEM from status.h). */
enum {
    SMRT_ES_MORE = 0,                 /* feed more bytes */
    SMRT_ES_MESSAGE = 1,              /* *out holds the next message */
    SMRT_ES_E_PRELUDE_CRC = -20,      /* ChecksumMismatch(expected, calculated) */
    SMRT_ES_E_HEADERS_LENGTH = -21,   /* InvalidHeadersLength(length) */
    SMRT_ES_E_PAYLOAD_LENGTH = -22,   /* InvalidPayloadLength(length) */
    SMRT_ES_E_MESSAGE_CRC = -23,      /* ChecksumMismatch(expected, calculated) */
    SMRT_ES_E_DUPLICATE_HEADER = -24, /* DuplicateHeader(headers[n_headers - 1].name) */
    SMRT_ES_E_MALFORMED_HEADER = -25, /* botocore: KeyError(bad_type), or struct.error (need) */
    SMRT_ES_E_HEADERS_OVERRUN = -26,  /* the header block runs past the message's end */
    SMRT_ES_E_SHORT_MESSAGE = -27,    /* total_length < 4 (botocore: struct.error, 4 bytes) */
    SMRT_ES_E_REJECTED = -28,         /* smrt_es_unread(final): *out holds that message again */
};

/* One header. Pointers into the message (the caller's fed bytes or the decoder's buffer). */
typedef struct smrt_es_header {
    const char *name; /* not NUL-terminated; UTF-8 not checked */
    size_t name_len;
    int type;    /* SMRT_ES_TRUE .. SMRT_ES_UUID */
    int64_t num; /* TRUE: 1, FALSE: 0; BYTE, SHORT, INT, LONG, TIMESTAMP: the value */
    const unsigned char *value; /* BYTES, STRING, UUID: the bytes (as many as the block holds) */
    size_t value_len;
} smrt_es_header;

/* A message, or what an error needs to be described. Pointers stay valid until the next call
 * of any smrt_es_ function on the decoder (an error's point into the decoder's own buffer). */
typedef struct smrt_es_message {
    /* The prelude: set by every code but SMRT_ES_MORE. */
    uint32_t total_length;
    uint32_t headers_length;
    uint32_t prelude_crc;
    uint32_t message_crc; /* SMRT_ES_MESSAGE, SMRT_ES_E_MESSAGE_CRC and the header errors */
    /* SMRT_ES_MESSAGE: all the headers, in wire order. SMRT_ES_E_DUPLICATE_HEADER: those up to
     * and including the duplicate (the last). SMRT_ES_E_MALFORMED_HEADER: those before the
     * malformed one. */
    const smrt_es_header *headers;
    size_t n_headers;
    const unsigned char *payload; /* SMRT_ES_MESSAGE */
    size_t payload_len;
    /* SMRT_ES_E_*_CRC: the CRC field and the CRC computed (botocore's expected, calculated). */
    uint32_t expected;
    uint32_t calculated;
    /* SMRT_ES_E_HEADERS_LENGTH: headers_length; SMRT_ES_E_PAYLOAD_LENGTH: the payload length. */
    int64_t length;
    /* SMRT_ES_E_MALFORMED_HEADER: the malformed header's name as far as the block holds it
     * (botocore decodes it before it fails), then either the unknown type id (bad_type >= 0)
     * or the bytes a fixed-size field needed and did not have (bad_type -1; 1 for a missing
     * type byte, the value's size, or 2 for a string's or byte array's length). */
    const char *bad_name;
    size_t bad_name_len;
    int bad_type;
    size_t need;
} smrt_es_message;

/* Owns its buffers; a zeroed struct is a valid empty decoder (smrt_es_init zeroes it), and
 * smrt_es_destroy is safe on it. Fields are private. */
typedef struct smrt_es_decoder {
    unsigned char *buf; /* owned bytes: buf[start..len) not yet decoded */
    size_t start, len, cap;
    const unsigned char *in; /* borrowed: the rest of the last feed, after buf's bytes */
    size_t in_len;
    smrt_es_header *headers;
    size_t headers_cap;
    uint32_t *slots; /* duplicate-name table, for messages with many headers */
    size_t slots_cap, slots_size; /* allocated, in use (a power of two) */
    int failed; /* an error was returned: it is returned again, and feeds are dropped */
    /* The last message, for smrt_es_unread: where it was (in = NULL: in buf) and its size. */
    int can_unread;
    size_t last_start, last_len, last_total;
    const unsigned char *last_in;
} smrt_es_decoder;

void smrt_es_init(smrt_es_decoder *d);
void smrt_es_destroy(smrt_es_decoder *d);

/* Add n bytes to the stream. The bytes are borrowed: they must stay valid and unchanged until
 * smrt_es_next returns something other than SMRT_ES_MESSAGE, or until smrt_es_detach,
 * smrt_es_prepare or the next smrt_es_feed (which copy what is left of them). Returns SMRT_OK
 * or SMRT_ENOMEM. After an error from smrt_es_next, bytes are dropped (the error stays). */
int smrt_es_feed(smrt_es_decoder *d, const void *data, size_t n);

/* Copy what is left of the borrowed bytes into the decoder: the caller may then release them.
 * SMRT_OK or SMRT_ENOMEM. */
int smrt_es_detach(smrt_es_decoder *d);

/* Receive in place: room for at least `want` (>= 1) more bytes in the decoder's buffer (*room
 * is set to how many fit), NULL when out of memory. Then smrt_es_commit(d, n) with the n <=
 * *room bytes written there. */
unsigned char *smrt_es_prepare(smrt_es_decoder *d, size_t want, size_t *room);
void smrt_es_commit(smrt_es_decoder *d, size_t n);

/* The next message: SMRT_ES_MESSAGE, SMRT_ES_MORE, an SMRT_ES_E_* error or SMRT_ENOMEM. An
 * error is final: every later call returns it again, with the same *out (as botocore's
 * buffer raises the same exception again). */
int smrt_es_next(smrt_es_decoder *d, smrt_es_message *out);

/* Put back the message smrt_es_next has just returned (no other call in between): the
 * caller could not take it (its headers would not decode as UTF-8, memory ran out). The next
 * smrt_es_next returns it again: as SMRT_ES_MESSAGE, or when `final` as SMRT_ES_E_REJECTED, an
 * error like the others (botocore's buffer keeps a message whose decoding raised, and raises
 * again). SMRT_OK, SMRT_EINVAL (not right after a message) or SMRT_ENOMEM. */
int smrt_es_unread(smrt_es_decoder *d, int final);

/* Bytes held and not yet returned as messages (a stream that ends with some is cut short). */
size_t smrt_es_pending(const smrt_es_decoder *d);

/* CRC-32 (IEEE, zlib's crc32(crc, data, n): start from 0, chain by passing the last result).
 * smrt_es_crc32 uses the CPU's help where there is some (x86-64: PCLMULQDQ; AArch64: the CRC32
 * instructions); smrt_es_crc32_portable is the table version it falls back to (for tests). */
uint32_t smrt_es_crc32(uint32_t crc, const void *data, size_t n);
uint32_t smrt_es_crc32_portable(uint32_t crc, const void *data, size_t n);

#endif
