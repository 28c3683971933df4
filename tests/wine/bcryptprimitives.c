/* Test-only stand-in for Windows' bcryptprimitives.dll, which wine 8.0
 * (Debian 12) lacks and Rust's std imports (ProcessPrng). Real Windows 10
 * and later ship the DLL; packed programs never carry this file. The test
 * builds it with MinGW and puts it next to the .exe it runs under wine. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
