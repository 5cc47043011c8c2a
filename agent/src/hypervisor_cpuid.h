/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The hypervisor vendor signature from CPUID leaf 0x40000000 ("Microsoft Hv"
 * on Hyper-V), or "" when the CPU reports no hypervisor or is not x86.  Only
 * meaningful on the live root: a fixture cannot answer CPUID.
 */
void hypervisor_cpuid_vendor(char out[13]);
