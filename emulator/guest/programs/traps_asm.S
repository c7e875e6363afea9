/*
 * traps_asm.S — the exact instructions that trap, for traps.c.
 *
 * Each routine is a tiny leaf function with a global label on the trapping
 * instruction, so traps.c can compare mepc with it.  `.option norvc` keeps
 * every instruction 4 bytes long: the handler resumes at mepc + 4, which
 * would land in the middle of the next instruction after a 2-byte c.ebreak.
 * Each routine returns 1 in a0 if execution resumed right after the
 * trapping instruction (the `li a0, 1` that follows it ran).
 */
    .text
    .option push
    .option norvc

    .globl test_ecall, site_ecall
test_ecall:
    li      a0, 0
site_ecall:
    ecall
    li      a0, 1
    ret

    .globl test_ebreak, site_ebreak
test_ebreak:
    li      a0, 0
site_ebreak:
    ebreak
    li      a0, 1
    ret

    /* All-zero bits: defined as illegal in every RISC-V encoding (the
     * 16-bit parcel 0x0000 is c.unimp).  Skipping 4 bytes skips both zero
     * halfwords. */
    .globl test_illegal_zero, site_illegal_zero
test_illegal_zero:
    li      a0, 0
site_illegal_zero:
    .word   0x00000000
    li      a0, 1
    ret

    /* csrrw x0, mvendorid, x0: a write to a read-only CSR (0xF11) is an
     * illegal instruction even though the value written is 0. */
    .globl test_illegal_csr, site_illegal_csr
test_illegal_csr:
    li      a0, 0
site_illegal_csr:
    csrw    mvendorid, zero
    li      a0, 1
    ret

    /* uint32_t load_word(uintptr_t addr) / void store_word(addr, value):
     * plain lw / sw with a global label on the access, used for the
     * misaligned and the unmapped-address tests. */
    .globl load_word, site_load
load_word:
    mv      t0, a0
    li      a0, 0xdeadbeef          /* visible if the load traps and is skipped */
site_load:
    lw      a0, 0(t0)
    ret

    .globl store_word, site_store
store_word:
site_store:
    sw      a1, 0(a0)
    ret

    /* void jump_to(uintptr_t addr): jalr into nowhere.  The fetch fault
     * reports mepc = mtval = addr; the handler resumes at ra, i.e. back in
     * the caller, because there is no "next instruction" to return to. */
    .globl jump_to
jump_to:
    jr      a0

    /* uint32_t enable_mie_and_return(void): sets mstatus.MIE; a machine
     * software interrupt that is already pending is taken right after the
     * csrsi, so mepc must equal site_msi. */
    .globl enable_mie_and_return, site_msi
enable_mie_and_return:
    csrsi   mstatus, 8
site_msi:
    li      a0, 1
    ret

    .option pop
