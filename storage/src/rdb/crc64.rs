//! CRC-64/Jones as Redis computes it (crc64.c): reflected, poly 0xad93d23594c935a9, init 0.
