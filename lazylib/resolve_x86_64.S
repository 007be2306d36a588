// skiff_lazylib_resolve_entry: where every trampoline's first call lands.
// See lazylib.h for the design.
//
// On entry: r11 = the symbol's SymbolRecord; the stack and every argument
// register are exactly as the caller left them for the real function (rsp is
// 8 mod 16: the return address is on top). We save all registers that can
// carry arguments under the System V x86-64 ABI — rdi rsi rdx rcx r8 r9, rax
// (for a variadic call, al = number of vector registers used), r10 (static
// chain) and xmm0-7 — call the C++ resolver with a 16-byte aligned stack,
// restore them, drop our frame and jump to the function it returned. The
// function then runs on the caller's own frame and returns to the caller.

	.text
	.globl skiff_lazylib_resolve_entry
	.hidden skiff_lazylib_resolve_entry
	.type skiff_lazylib_resolve_entry, @function
	.p2align 4
skiff_lazylib_resolve_entry:
	.cfi_startproc
#ifdef __CET__
	endbr64
#endif
	pushq %rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	movq %rsp, %rbp
	.cfi_def_cfa_register %rbp
	// rsp is now 0 mod 16; eight pushes keep it so.
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %r8
	pushq %r9
	pushq %rax
	pushq %r10
	subq $128, %rsp
	movaps %xmm0, 0(%rsp)
	movaps %xmm1, 16(%rsp)
	movaps %xmm2, 32(%rsp)
	movaps %xmm3, 48(%rsp)
	movaps %xmm4, 64(%rsp)
	movaps %xmm5, 80(%rsp)
	movaps %xmm6, 96(%rsp)
	movaps %xmm7, 112(%rsp)

	movq %r11, %rdi
	call skiff_lazylib_resolve
	movq %rax, %r11

	movaps 0(%rsp), %xmm0
	movaps 16(%rsp), %xmm1
	movaps 32(%rsp), %xmm2
	movaps 48(%rsp), %xmm3
	movaps 64(%rsp), %xmm4
	movaps 80(%rsp), %xmm5
	movaps 96(%rsp), %xmm6
	movaps 112(%rsp), %xmm7
	addq $128, %rsp
	popq %r10
	popq %rax
	popq %r9
	popq %r8
	popq %rcx
	popq %rdx
	popq %rsi
	popq %rdi
	popq %rbp
	.cfi_def_cfa %rsp, 8
	jmp *%r11
	.cfi_endproc
	.size skiff_lazylib_resolve_entry, .-skiff_lazylib_resolve_entry

	.section .note.GNU-stack,"",@progbits
