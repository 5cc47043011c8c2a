// SPDX-License-Identifier: MIT
#include "hypervisor_cpuid.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

void hypervisor_cpuid_vendor(char out[13])
{
	unsigned int eax, ebx, ecx, edx;

	out[0] = '\0';
	__cpuid(1, eax, ebx, ecx, edx);
	if (!(ecx & (1u << 31))) /* the "hypervisor present" bit */
		return;
	__cpuid(0x40000000, eax, ebx, ecx, edx);
	memcpy(out, &ebx, 4);
	memcpy(out + 4, &ecx, 4);
	memcpy(out + 8, &edx, 4);
	out[12] = '\0';
}
#else
void hypervisor_cpuid_vendor(char out[13])
{
	out[0] = '\0';
}
#endif
