/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/*
 * The Azure vmId from DMI product_uuid.  Gen2 (UEFI, SMBIOS 3.1) firmware
 * stores it as IMDS shows it; Gen1 (BIOS, SMBIOS 2.3) stores the first three
 * fields little-endian, so they must be byte-swapped.  Kernels before 4.15
 * print upper case.  Returns -EINVAL when product_uuid is not a UUID.
 */
int vmid_from_product_uuid(const char *product_uuid, bool gen1, char out[37]);
