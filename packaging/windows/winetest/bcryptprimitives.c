/*
 * bcryptprimitives.dll for Wine 8 (Debian 12), test use only.
 *
 * Go programs for Windows take their random numbers from ProcessPrng in
 * bcryptprimitives.dll, which every supported Windows has and Wine gained
 * only after 8.0: without it the Go runtime stops before main. The Wine
 * smoke test puts this DLL in its private prefix's system32; it is never
 * shipped, as a shop's Windows has the real one.
 *
 * ProcessPrng fills the buffer from the system's generator (RtlGenRandom,
 * exported by advapi32 as SystemFunction036) and, like the real one,
 * always reports success.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		SystemFunction036(data, n);
		data += n;
		len -= n;
	}
	return TRUE;
}
