/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_md.c - metadata and end-to-end protection information (PI)
 * in the emulated controller, behaving as QEMU 7.2's hw/nvme does, so the
 * same tests pass against both.
 *
 * Storage: each block's metadata sits after the data in the namespace's
 * mapping (and file), @ns->ms bytes per block. The PI tuple of a PI
 * namespace is stored inverted, so storage that was never written (or was
 * deallocated, or zeroed) reads back a tuple of all ones: QEMU reports such
 * blocks that way, and an all-ones tuple disables the checks.
 *
 * PI (NVM Command Set 1.0 5.2): a tuple is the guard (CRC over the block's
 * data and, with PI last, the metadata bytes before the tuple), the
 * application tag and the reference tag, all big-endian. The 16-bit guard
 * format's tuple is 8 bytes (CRC-16 T10-DIF, 32-bit reference tag); the
 * 64-bit guard format's 16 (CRC-64/NVME, 48-bit reference tag, no storage
 * tag). PRACT on a write makes the device generate it (the host sends no
 * metadata when the tuple is all of it); PRACT on a read strips it then.
 * PRCHK selects the checks on writes without PRACT and on reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "emu/emu.h"
#include "util/log.h"

/* CRC-64 of 4096 zero bytes: QEMU 7.2 writes it as the 64-bit guard of
 * Write Zeroes with PRACT, whatever the block size. */
#define EMU_CRC64_ZERO_4K	0x6482d367eb22b64eull

/* Generated from the polynomial 8BB7h, MSB first. */
static const uint16_t emu_crc16_table[256] = {
	0x0000, 0x8bb7, 0x9cd9, 0x176e, 0xb205, 0x39b2, 0x2edc, 0xa56b,
	0xefbd, 0x640a, 0x7364, 0xf8d3, 0x5db8, 0xd60f, 0xc161, 0x4ad6,
	0x54cd, 0xdf7a, 0xc814, 0x43a3, 0xe6c8, 0x6d7f, 0x7a11, 0xf1a6,
	0xbb70, 0x30c7, 0x27a9, 0xac1e, 0x0975, 0x82c2, 0x95ac, 0x1e1b,
	0xa99a, 0x222d, 0x3543, 0xbef4, 0x1b9f, 0x9028, 0x8746, 0x0cf1,
	0x4627, 0xcd90, 0xdafe, 0x5149, 0xf422, 0x7f95, 0x68fb, 0xe34c,
	0xfd57, 0x76e0, 0x618e, 0xea39, 0x4f52, 0xc4e5, 0xd38b, 0x583c,
	0x12ea, 0x995d, 0x8e33, 0x0584, 0xa0ef, 0x2b58, 0x3c36, 0xb781,
	0xd883, 0x5334, 0x445a, 0xcfed, 0x6a86, 0xe131, 0xf65f, 0x7de8,
	0x373e, 0xbc89, 0xabe7, 0x2050, 0x853b, 0x0e8c, 0x19e2, 0x9255,
	0x8c4e, 0x07f9, 0x1097, 0x9b20, 0x3e4b, 0xb5fc, 0xa292, 0x2925,
	0x63f3, 0xe844, 0xff2a, 0x749d, 0xd1f6, 0x5a41, 0x4d2f, 0xc698,
	0x7119, 0xfaae, 0xedc0, 0x6677, 0xc31c, 0x48ab, 0x5fc5, 0xd472,
	0x9ea4, 0x1513, 0x027d, 0x89ca, 0x2ca1, 0xa716, 0xb078, 0x3bcf,
	0x25d4, 0xae63, 0xb90d, 0x32ba, 0x97d1, 0x1c66, 0x0b08, 0x80bf,
	0xca69, 0x41de, 0x56b0, 0xdd07, 0x786c, 0xf3db, 0xe4b5, 0x6f02,
	0x3ab1, 0xb106, 0xa668, 0x2ddf, 0x88b4, 0x0303, 0x146d, 0x9fda,
	0xd50c, 0x5ebb, 0x49d5, 0xc262, 0x6709, 0xecbe, 0xfbd0, 0x7067,
	0x6e7c, 0xe5cb, 0xf2a5, 0x7912, 0xdc79, 0x57ce, 0x40a0, 0xcb17,
	0x81c1, 0x0a76, 0x1d18, 0x96af, 0x33c4, 0xb873, 0xaf1d, 0x24aa,
	0x932b, 0x189c, 0x0ff2, 0x8445, 0x212e, 0xaa99, 0xbdf7, 0x3640,
	0x7c96, 0xf721, 0xe04f, 0x6bf8, 0xce93, 0x4524, 0x524a, 0xd9fd,
	0xc7e6, 0x4c51, 0x5b3f, 0xd088, 0x75e3, 0xfe54, 0xe93a, 0x628d,
	0x285b, 0xa3ec, 0xb482, 0x3f35, 0x9a5e, 0x11e9, 0x0687, 0x8d30,
	0xe232, 0x6985, 0x7eeb, 0xf55c, 0x5037, 0xdb80, 0xccee, 0x4759,
	0x0d8f, 0x8638, 0x9156, 0x1ae1, 0xbf8a, 0x343d, 0x2353, 0xa8e4,
	0xb6ff, 0x3d48, 0x2a26, 0xa191, 0x04fa, 0x8f4d, 0x9823, 0x1394,
	0x5942, 0xd2f5, 0xc59b, 0x4e2c, 0xeb47, 0x60f0, 0x779e, 0xfc29,
	0x4ba8, 0xc01f, 0xd771, 0x5cc6, 0xf9ad, 0x721a, 0x6574, 0xeec3,
	0xa415, 0x2fa2, 0x38cc, 0xb37b, 0x1610, 0x9da7, 0x8ac9, 0x017e,
	0x1f65, 0x94d2, 0x83bc, 0x080b, 0xad60, 0x26d7, 0x31b9, 0xba0e,
	0xf0d8, 0x7b6f, 0x6c01, 0xe7b6, 0x42dd, 0xc96a, 0xde04, 0x55b3
};

/* Generated from the reflected polynomial 9A6C9329AC4BC9B5h. */
static const uint64_t emu_crc64_table[256] = {
	0x0000000000000000ull, 0x7f6ef0c830358979ull, 0xfedde190606b12f2ull,
	0x81b31158505e9b8bull, 0xc962e5739841b68full, 0xb60c15bba8743ff6ull,
	0x37bf04e3f82aa47dull, 0x48d1f42bc81f2d04ull, 0xa61cecb46814fe75ull,
	0xd9721c7c5821770cull, 0x58c10d24087fec87ull, 0x27affdec384a65feull,
	0x6f7e09c7f05548faull, 0x1010f90fc060c183ull, 0x91a3e857903e5a08ull,
	0xeecd189fa00bd371ull, 0x78e0ff3b88be6f81ull, 0x078e0ff3b88be6f8ull,
	0x863d1eabe8d57d73ull, 0xf953ee63d8e0f40aull, 0xb1821a4810ffd90eull,
	0xceecea8020ca5077ull, 0x4f5ffbd87094cbfcull, 0x30310b1040a14285ull,
	0xdefc138fe0aa91f4ull, 0xa192e347d09f188dull, 0x2021f21f80c18306ull,
	0x5f4f02d7b0f40a7full, 0x179ef6fc78eb277bull, 0x68f0063448deae02ull,
	0xe943176c18803589ull, 0x962de7a428b5bcf0ull, 0xf1c1fe77117cdf02ull,
	0x8eaf0ebf2149567bull, 0x0f1c1fe77117cdf0ull, 0x7072ef2f41224489ull,
	0x38a31b04893d698dull, 0x47cdebccb908e0f4ull, 0xc67efa94e9567b7full,
	0xb9100a5cd963f206ull, 0x57dd12c379682177ull, 0x28b3e20b495da80eull,
	0xa900f35319033385ull, 0xd66e039b2936bafcull, 0x9ebff7b0e12997f8ull,
	0xe1d10778d11c1e81ull, 0x606216208142850aull, 0x1f0ce6e8b1770c73ull,
	0x8921014c99c2b083ull, 0xf64ff184a9f739faull, 0x77fce0dcf9a9a271ull,
	0x08921014c99c2b08ull, 0x4043e43f0183060cull, 0x3f2d14f731b68f75ull,
	0xbe9e05af61e814feull, 0xc1f0f56751dd9d87ull, 0x2f3dedf8f1d64ef6ull,
	0x50531d30c1e3c78full, 0xd1e00c6891bd5c04ull, 0xae8efca0a188d57dull,
	0xe65f088b6997f879ull, 0x9931f84359a27100ull, 0x1882e91b09fcea8bull,
	0x67ec19d339c963f2ull, 0xd75adabd7a6e2d6full, 0xa8342a754a5ba416ull,
	0x29873b2d1a053f9dull, 0x56e9cbe52a30b6e4ull, 0x1e383fcee22f9be0ull,
	0x6156cf06d21a1299ull, 0xe0e5de5e82448912ull, 0x9f8b2e96b271006bull,
	0x71463609127ad31aull, 0x0e28c6c1224f5a63ull, 0x8f9bd7997211c1e8ull,
	0xf0f5275142244891ull, 0xb824d37a8a3b6595ull, 0xc74a23b2ba0eececull,
	0x46f932eaea507767ull, 0x3997c222da65fe1eull, 0xafba2586f2d042eeull,
	0xd0d4d54ec2e5cb97ull, 0x5167c41692bb501cull, 0x2e0934dea28ed965ull,
	0x66d8c0f56a91f461ull, 0x19b6303d5aa47d18ull, 0x980521650afae693ull,
	0xe76bd1ad3acf6feaull, 0x09a6c9329ac4bc9bull, 0x76c839faaaf135e2ull,
	0xf77b28a2faafae69ull, 0x8815d86aca9a2710ull, 0xc0c42c4102850a14ull,
	0xbfaadc8932b0836dull, 0x3e19cdd162ee18e6ull, 0x41773d1952db919full,
	0x269b24ca6b12f26dull, 0x59f5d4025b277b14ull, 0xd846c55a0b79e09full,
	0xa72835923b4c69e6ull, 0xeff9c1b9f35344e2ull, 0x90973171c366cd9bull,
	0x1124202993385610ull, 0x6e4ad0e1a30ddf69ull, 0x8087c87e03060c18ull,
	0xffe938b633338561ull, 0x7e5a29ee636d1eeaull, 0x0134d92653589793ull,
	0x49e52d0d9b47ba97ull, 0x368bddc5ab7233eeull, 0xb738cc9dfb2ca865ull,
	0xc8563c55cb19211cull, 0x5e7bdbf1e3ac9decull, 0x21152b39d3991495ull,
	0xa0a63a6183c78f1eull, 0xdfc8caa9b3f20667ull, 0x97193e827bed2b63ull,
	0xe877ce4a4bd8a21aull, 0x69c4df121b863991ull, 0x16aa2fda2bb3b0e8ull,
	0xf86737458bb86399ull, 0x8709c78dbb8deae0ull, 0x06bad6d5ebd3716bull,
	0x79d4261ddbe6f812ull, 0x3105d23613f9d516ull, 0x4e6b22fe23cc5c6full,
	0xcfd833a67392c7e4ull, 0xb0b6c36e43a74e9dull, 0x9a6c9329ac4bc9b5ull,
	0xe50263e19c7e40ccull, 0x64b172b9cc20db47ull, 0x1bdf8271fc15523eull,
	0x530e765a340a7f3aull, 0x2c608692043ff643ull, 0xadd397ca54616dc8ull,
	0xd2bd67026454e4b1ull, 0x3c707f9dc45f37c0ull, 0x431e8f55f46abeb9ull,
	0xc2ad9e0da4342532ull, 0xbdc36ec59401ac4bull, 0xf5129aee5c1e814full,
	0x8a7c6a266c2b0836ull, 0x0bcf7b7e3c7593bdull, 0x74a18bb60c401ac4ull,
	0xe28c6c1224f5a634ull, 0x9de29cda14c02f4dull, 0x1c518d82449eb4c6ull,
	0x633f7d4a74ab3dbfull, 0x2bee8961bcb410bbull, 0x548079a98c8199c2ull,
	0xd53368f1dcdf0249ull, 0xaa5d9839ecea8b30ull, 0x449080a64ce15841ull,
	0x3bfe706e7cd4d138ull, 0xba4d61362c8a4ab3ull, 0xc52391fe1cbfc3caull,
	0x8df265d5d4a0eeceull, 0xf29c951de49567b7ull, 0x732f8445b4cbfc3cull,
	0x0c41748d84fe7545ull, 0x6bad6d5ebd3716b7ull, 0x14c39d968d029fceull,
	0x95708ccedd5c0445ull, 0xea1e7c06ed698d3cull, 0xa2cf882d2576a038ull,
	0xdda178e515432941ull, 0x5c1269bd451db2caull, 0x237c997575283bb3ull,
	0xcdb181ead523e8c2ull, 0xb2df7122e51661bbull, 0x336c607ab548fa30ull,
	0x4c0290b2857d7349ull, 0x04d364994d625e4dull, 0x7bbd94517d57d734ull,
	0xfa0e85092d094cbfull, 0x856075c11d3cc5c6ull, 0x134d926535897936ull,
	0x6c2362ad05bcf04full, 0xed9073f555e26bc4ull, 0x92fe833d65d7e2bdull,
	0xda2f7716adc8cfb9ull, 0xa54187de9dfd46c0ull, 0x24f29686cda3dd4bull,
	0x5b9c664efd965432ull, 0xb5517ed15d9d8743ull, 0xca3f8e196da80e3aull,
	0x4b8c9f413df695b1ull, 0x34e26f890dc31cc8ull, 0x7c339ba2c5dc31ccull,
	0x035d6b6af5e9b8b5ull, 0x82ee7a32a5b7233eull, 0xfd808afa9582aa47ull,
	0x4d364994d625e4daull, 0x3258b95ce6106da3ull, 0xb3eba804b64ef628ull,
	0xcc8558cc867b7f51ull, 0x8454ace74e645255ull, 0xfb3a5c2f7e51db2cull,
	0x7a894d772e0f40a7ull, 0x05e7bdbf1e3ac9deull, 0xeb2aa520be311aafull,
	0x944455e88e0493d6ull, 0x15f744b0de5a085dull, 0x6a99b478ee6f8124ull,
	0x224840532670ac20ull, 0x5d26b09b16452559ull, 0xdc95a1c3461bbed2ull,
	0xa3fb510b762e37abull, 0x35d6b6af5e9b8b5bull, 0x4ab846676eae0222ull,
	0xcb0b573f3ef099a9ull, 0xb465a7f70ec510d0ull, 0xfcb453dcc6da3dd4ull,
	0x83daa314f6efb4adull, 0x0269b24ca6b12f26ull, 0x7d0742849684a65full,
	0x93ca5a1b368f752eull, 0xeca4aad306bafc57ull, 0x6d17bb8b56e467dcull,
	0x12794b4366d1eea5ull, 0x5aa8bf68aecec3a1ull, 0x25c64fa09efb4ad8ull,
	0xa4755ef8cea5d153ull, 0xdb1bae30fe90582aull, 0xbcf7b7e3c7593bd8ull,
	0xc399472bf76cb2a1ull, 0x422a5673a732292aull, 0x3d44a6bb9707a053ull,
	0x759552905f188d57ull, 0x0afba2586f2d042eull, 0x8b48b3003f739fa5ull,
	0xf42643c80f4616dcull, 0x1aeb5b57af4dc5adull, 0x6585ab9f9f784cd4ull,
	0xe436bac7cf26d75full, 0x9b584a0fff135e26ull, 0xd389be24370c7322ull,
	0xace74eec0739fa5bull, 0x2d545fb4576761d0ull, 0x523aaf7c6752e8a9ull,
	0xc41748d84fe75459ull, 0xbb79b8107fd2dd20ull, 0x3acaa9482f8c46abull,
	0x45a459801fb9cfd2ull, 0x0d75adabd7a6e2d6ull, 0x721b5d63e7936bafull,
	0xf3a84c3bb7cdf024ull, 0x8cc6bcf387f8795dull, 0x620ba46c27f3aa2cull,
	0x1d6554a417c62355ull, 0x9cd645fc4798b8deull, 0xe3b8b53477ad31a7ull,
	0xab69411fbfb21ca3ull, 0xd407b1d78f8795daull, 0x55b4a08fdfd90e51ull,
	0x2ada5047efec8728ull

};

uint64_t nvp_emu_crc64_nvme(uint64_t crc, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		crc = (crc >> 8) ^ emu_crc64_table[(crc ^ buf[i]) & 0xff];
	return crc;
}

uint16_t nvp_emu_crc16_t10dif(uint16_t crc, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		crc = (uint16_t)((crc << 8) ^ emu_crc16_table[((crc >> 8) ^ buf[i]) & 0xff]);
	return crc;
}

/* PI fields are big-endian on the wire and in storage: byte by byte. */
static uint16_t emu_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t emu_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void emu_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void emu_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Big-endian, @n bytes (6 for a 48-bit reference tag, 8 for a guard). */
static uint64_t emu_get_ben(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static void emu_put_ben(uint8_t *p, int n, uint64_t v)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The reference tag's width: 32 bits, or 48 with the 64-bit guard. */
static uint64_t emu_reftag_mask(const struct emu_ns *ns)
{
	return ns->pif ? 0xffffffffffffull : 0xffffffffull;
}

/* ILBRT: CDW14, and for the 48-bit tag bits 47:32 from CDW3. */
static uint64_t emu_cmd_reftag(const struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	return sqe->cdw14 | (ns->pif ? (uint64_t)(sqe->cdw3 & 0xffff) << 32 : 0);
}

/* A block's metadata as the host sees it (the tuple stored inverted). */
static void emu_md_load(const struct emu_ns *ns, uint64_t lba, uint8_t *dst)
{
	memcpy(dst, ns->md + lba * ns->ms, ns->ms);
	if (ns->pi)
		for (int i = 0; i < ns->pi_size; i++)
			dst[ns->pi_off + i] ^= 0xff;
}

static void emu_md_store(struct emu_ns *ns, uint64_t lba, const uint8_t *src)
{
	uint8_t *m = ns->md + lba * ns->ms;

	memcpy(m, src, ns->ms);
	if (ns->pi)
		for (int i = 0; i < ns->pi_size; i++)
			m[ns->pi_off + i] ^= 0xff;
}

/*
 * The guard of a block: its data, then the metadata ahead of the tuple.
 * With the 64-bit guard QEMU 7.2 continues over that metadata from the
 * finished (inverted) CRC of the data; later QEMU re-inverts it first. As
 * 7.2 does (it matters only with PI last and more than 16 metadata bytes).
 */
static uint64_t emu_pi_guard(const struct emu_ns *ns, const uint8_t *data, const uint8_t *md)
{
	uint64_t crc;

	if (!ns->pif) {
		uint16_t c16 = nvp_emu_crc16_t10dif(0, data, ns->block_size);

		if (ns->pi_off)
			c16 = nvp_emu_crc16_t10dif(c16, md, ns->pi_off);
		return c16;
	}
	crc = ~nvp_emu_crc64_nvme(~0ull, data, ns->block_size);
	if (ns->pi_off)
		crc = ~nvp_emu_crc64_nvme(crc, md, ns->pi_off);
	return crc;
}

/* Tuple fields: 16-bit guard at 0, apptag at 2, reftag at 4 (4 bytes);
 * 64-bit guard at 0, apptag at 8, reftag at 10 (6 bytes). */
static void emu_pi_put(const struct emu_ns *ns, uint8_t *t, uint64_t guard, uint16_t apptag,
		       uint64_t reftag)
{
	if (!ns->pif) {
		emu_put_be16(t, (uint16_t)guard);
		emu_put_be16(t + 2, apptag);
		emu_put_be32(t + 4, (uint32_t)reftag);
		return;
	}
	emu_put_ben(t, 8, guard);
	emu_put_be16(t + 8, apptag);
	emu_put_ben(t + 10, 6, reftag);
}

static void emu_pi_get(const struct emu_ns *ns, const uint8_t *t, uint64_t *guard,
		       uint16_t *apptag, uint64_t *reftag)
{
	if (!ns->pif) {
		*guard = emu_get_be16(t);
		*apptag = emu_get_be16(t + 2);
		*reftag = emu_get_be32(t + 4);
		return;
	}
	*guard = emu_get_ben(t, 8);
	*apptag = emu_get_be16(t + 8);
	*reftag = emu_get_ben(t + 10, 6);
}

static void emu_pi_generate(const struct emu_ns *ns, const uint8_t *data, uint8_t *md,
			    uint16_t apptag, uint64_t reftag)
{
	emu_pi_put(ns, md + ns->pi_off, emu_pi_guard(ns, data, md), apptag, reftag);
}

/*
 * The command-level check QEMU makes before any block: type 1 with the
 * reference tag check needs ILBRT to be the LBA's low 32 (48) bits, and
 * type 3 has no reference tag to check.
 */
static uint16_t emu_pi_check_prinfo(const struct emu_ns *ns, uint8_t prinfo, uint64_t slba,
				    uint64_t reftag)
{
	if (ns->pi == 1 && (prinfo & EMU_PRINFO_PRCHK_REF) && (slba & emu_reftag_mask(ns)) != reftag)
		return EMU_CS_DNR(NVP_SC_INVALID_PROTECTION_INFO);
	if (ns->pi == 3 && (prinfo & EMU_PRINFO_PRCHK_REF))
		return NVP_STATUS(NVP_SCT_CMD_SPECIFIC, NVP_SC_INVALID_PROTECTION_INFO);
	return 0;
}

/* One block's checks; an application tag of FFFFh (types 1, 2), or with a
 * reference tag of all ones (type 3), turns them off. */
static uint16_t emu_pi_check(const struct emu_ns *ns, const uint8_t *data, const uint8_t *md,
			     uint8_t prinfo, uint16_t apptag, uint16_t appmask, uint64_t reftag)
{
	uint64_t guard, rt;
	uint16_t at;

	emu_pi_get(ns, md + ns->pi_off, &guard, &at, &rt);
	if (at == 0xffff && (ns->pi != 3 || rt == emu_reftag_mask(ns)))
		return 0;
	if ((prinfo & EMU_PRINFO_PRCHK_GUARD) && guard != emu_pi_guard(ns, data, md))
		return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_GUARD_CHECK_ERROR);
	if ((prinfo & EMU_PRINFO_PRCHK_APP) && (at & appmask) != (apptag & appmask))
		return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_APPTAG_CHECK_ERROR);
	/* Compared whole, as QEMU 7.2 does: an ILBRT near the top of the tag
	 * range does not wrap. */
	if ((prinfo & EMU_PRINFO_PRCHK_REF) && rt != reftag)
		return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_REFTAG_CHECK_ERROR);
	return 0;
}

/* Position in the command's translated host ranges (emu->sg). */
struct emu_cur {
	uint32_t i;
	uint32_t off;
};

/* Move @n bytes between @buf and the host ranges at @c; a NULL @buf skips. */
static void emu_cur_xfer(struct nvp_emu *emu, struct emu_cur *c, uint8_t *buf, size_t n,
			 bool to_host)
{
	while (n) {
		struct emu_sg *g = &emu->sg[c->i];
		size_t k = g->len - c->off;

		if (k > n)
			k = n;
		if (g->va && buf) {	/* a NULL va is an SGL bit bucket */
			if (to_host)
				memcpy(g->va + c->off, buf, k);
			else
				memcpy(buf, g->va + c->off, k);
		}
		if (buf)
			buf += k;
		n -= k;
		c->off += (uint32_t)k;
		if (c->off == g->len) {
			c->i++;
			c->off = 0;
		}
	}
}

/* Scratch for one block and its metadata. */
static int emu_md_scratch(struct nvp_emu *emu, const struct emu_ns *ns)
{
	size_t need = (size_t)ns->block_size + ns->ms;
	uint8_t *p;

	if (emu->md_blk_size >= need)
		return 0;
	p = realloc(emu->md_blk, need);
	if (!p)
		return -ENOMEM;
	emu->md_blk = p;
	emu->md_blk_size = need;
	return 0;
}

/* Next block's metadata from the host: interleaved, or MPTR's buffer. */
static void emu_md_from_host(struct nvp_emu *emu, const struct emu_ns *ns, struct emu_cur *c,
			     const uint8_t *mhost, uint32_t b, uint8_t *md)
{
	if (ns->ext)
		emu_cur_xfer(emu, c, md, ns->ms, false);
	else
		memcpy(md, mhost + (size_t)b * ns->ms, ns->ms);
}

static uint16_t emu_md_write(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe,
			     const uint8_t *mhost, bool md_xfer)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	uint16_t apptag = sqe->cdw15 & 0xffff, appmask = sqe->cdw15 >> 16;
	uint64_t reftag = emu_cmd_reftag(ns, sqe);
	uint8_t *blk = emu->md_blk, *md = emu->md_blk + ns->block_size;
	struct emu_cur c = { 0 };
	uint16_t st;

	if (ns->pi) {
		st = emu_pi_check_prinfo(ns, prinfo, slba, reftag);
		if (st)
			return st;
	}
	/* Check every block before storing any: a failed write changes nothing. */
	if (ns->pi && !(prinfo & EMU_PRINFO_PRACT) && (prinfo & EMU_PRINFO_PRCHK_MASK)) {
		uint64_t rt = reftag;

		for (uint32_t b = 0; b < nlb; b++) {
			emu_cur_xfer(emu, &c, blk, ns->block_size, false);
			emu_md_from_host(emu, ns, &c, mhost, b, md);
			st = emu_pi_check(ns, blk, md, prinfo, apptag, appmask, rt);
			if (st)
				return st;
			if (ns->pi != 3)
				rt++;
		}
		c = (struct emu_cur){ 0 };
	}
	for (uint32_t b = 0; b < nlb; b++) {
		uint8_t *data = ns->data + ((slba + b) << ns->lbads);

		emu_cur_xfer(emu, &c, data, ns->block_size, false);
		if (md_xfer)
			emu_md_from_host(emu, ns, &c, mhost, b, md);
		else
			memset(md, 0, ns->ms);	/* the tuple is all of it */
		if (prinfo & EMU_PRINFO_PRACT) {
			emu_pi_generate(ns, data, md, apptag, reftag);
			if (ns->pi != 3)
				reftag++;
		}
		emu_md_store(ns, slba + b, md);
	}
	emu->bytes_written += (uint64_t)nlb << ns->lbads;
	emu->host_writes++;
	/* FUA: a file-backed namespace writes data and metadata through. */
	if ((sqe->cdw12 & NVP_RW_FUA) && ns->fd >= 0)
		msync(ns->data, ns->bytes, MS_SYNC);
	return 0;
}

static uint16_t emu_md_read(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe,
			    uint8_t *mhost, bool md_xfer)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	uint16_t apptag = sqe->cdw15 & 0xffff, appmask = sqe->cdw15 >> 16;
	uint64_t reftag = emu_cmd_reftag(ns, sqe);
	uint8_t *md = emu->md_blk;
	struct emu_cur c = { 0 };
	uint16_t st;

	/* As QEMU: check all blocks first; a failed read transfers nothing. */
	if (ns->pi) {
		st = emu_pi_check_prinfo(ns, prinfo, slba, reftag);
		if (st)
			return st;
		for (uint32_t b = 0; (prinfo & EMU_PRINFO_PRCHK_MASK) && b < nlb; b++) {
			emu_md_load(ns, slba + b, md);
			st = emu_pi_check(ns, ns->data + ((slba + b) << ns->lbads), md, prinfo,
					  apptag, appmask, reftag);
			if (st)
				return st;
			if (ns->pi != 3)
				reftag++;
		}
	}
	for (uint32_t b = 0; b < nlb; b++) {
		emu_cur_xfer(emu, &c, ns->data + ((slba + b) << ns->lbads), ns->block_size, true);
		if (!md_xfer)
			continue;	/* PRACT strips a tuple that is all of it */
		emu_md_load(ns, slba + b, md);
		if (ns->ext)
			emu_cur_xfer(emu, &c, md, ns->ms, true);
		else
			memcpy(mhost + (size_t)b * ns->ms, md, ns->ms);
	}
	emu->bytes_read += (uint64_t)nlb << ns->lbads;
	emu->host_reads++;
	return 0;
}

/*
 * Compare, in QEMU 7.2's order: all data, then the stored PI under PRCHK,
 * then the metadata. On a PI namespace QEMU compares metadata from the
 * tuple's offset to the end: with PI last that is the tuple alone, with PI
 * first all of it. We do the same.
 */
static uint16_t emu_md_compare(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe,
			       const uint8_t *mhost)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	uint16_t apptag = sqe->cdw15 & 0xffff, appmask = sqe->cdw15 >> 16;
	uint64_t reftag = emu_cmd_reftag(ns, sqe);
	uint8_t *blk = emu->md_blk, *md = emu->md_blk + ns->block_size;
	uint16_t from = ns->pi ? ns->pi_off : 0;
	struct emu_cur c = { 0 };
	uint16_t st;

	for (uint32_t b = 0; b < nlb; b++) {
		emu_cur_xfer(emu, &c, blk, ns->block_size, false);
		if (ns->ext)
			emu_cur_xfer(emu, &c, NULL, ns->ms, false);
		if (memcmp(blk, ns->data + ((slba + b) << ns->lbads), ns->block_size))
			return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_COMPARE_FAILURE);
	}
	if (ns->pi) {
		st = emu_pi_check_prinfo(ns, prinfo, slba, reftag);
		if (st)
			return st;
		for (uint32_t b = 0; (prinfo & EMU_PRINFO_PRCHK_MASK) && b < nlb; b++) {
			emu_md_load(ns, slba + b, md);
			st = emu_pi_check(ns, ns->data + ((slba + b) << ns->lbads), md, prinfo,
					  apptag, appmask, reftag);
			if (st)
				return st;
			if (ns->pi != 3)
				reftag++;
		}
	}
	c = (struct emu_cur){ 0 };
	for (uint32_t b = 0; b < nlb; b++) {
		if (ns->ext)
			emu_cur_xfer(emu, &c, NULL, ns->block_size, false);
		emu_md_from_host(emu, ns, &c, mhost, b, blk);
		emu_md_load(ns, slba + b, md);
		if (memcmp(blk + from, md + from, ns->ms - from))
			return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_COMPARE_FAILURE);
	}
	emu->bytes_read += (uint64_t)nlb << ns->lbads;	/* as emu_rw() counts it */
	emu->host_reads++;
	return 0;
}

uint16_t nvp_emu_md_rw(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	/* PRACT with the tuple as all the metadata: none crosses the bus. */
	bool md_xfer = !((prinfo & EMU_PRINFO_PRACT) && ns->ms == ns->pi_size);
	uint64_t mlen = (uint64_t)nlb * ns->ms;
	uint64_t mapped = ((uint64_t)nlb << ns->lbads) + (ns->ext && md_xfer ? mlen : 0);
	uint8_t *mhost = NULL;
	uint32_t nr;
	uint16_t st;

	/* MDTS counts interleaved metadata too (QEMU's mapped size), and is
	 * checked before the range, as QEMU does. */
	if (emu->max_xfer && mapped > emu->max_xfer)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (slba >= ns->nblocks || nlb > ns->nblocks - slba)
		return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
	if (sqe->opc == NVP_NVM_COMPARE && (prinfo & EMU_PRINFO_PRACT))
		return EMU_CS_DNR(NVP_SC_INVALID_PROTECTION_INFO);
	if (emu_md_scratch(emu, ns))
		return EMU_SC(NVP_SC_INTERNAL);
	if (nvp_emu_map_data(emu, sqe, mapped, sqe->opc != NVP_NVM_READ, &nr, &st))
		return st;
	/* Separate metadata: MPTR is one contiguous buffer (no SGL for it). */
	if (!ns->ext && md_xfer) {
		mhost = nvp_emu_dma_va(emu, sqe->mptr, mlen);
		if (!mhost)
			return EMU_SC(NVP_SC_DATA_XFER_ERROR);
	}
	switch (sqe->opc) {
	case NVP_NVM_READ:
		return emu_md_read(emu, ns, sqe, mhost, md_xfer);
	case NVP_NVM_WRITE:
		return emu_md_write(emu, ns, sqe, mhost, md_xfer);
	default:
		return emu_md_compare(emu, ns, sqe, mhost);
	}
}

uint16_t nvp_emu_md_write_zeroes(struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	uint16_t apptag = sqe->cdw15 & 0xffff;
	uint64_t reftag = emu_cmd_reftag(ns, sqe);
	uint8_t md[EMU_MAX_MS];

	/* There is no data to check. */
	if (prinfo & EMU_PRINFO_PRCHK_MASK)
		return EMU_CS_DNR(NVP_SC_INVALID_PROTECTION_INFO);
	nvp_emu_ns_zero_range(ns, slba << ns->lbads, (uint64_t)nlb << ns->lbads);
	nvp_emu_md_deallocate(ns, slba, nlb);
	if (!(prinfo & EMU_PRINFO_PRACT))
		return 0;
	/* PRACT: zeroed metadata with a tuple. The 16-bit guard of zeroes is
	 * 0; for the 64-bit one QEMU 7.2 writes that of a 4 KiB block. */
	memset(md, 0, ns->ms);
	for (uint32_t b = 0; b < nlb; b++) {
		emu_pi_put(ns, md + ns->pi_off, ns->pif ? EMU_CRC64_ZERO_4K : 0, apptag, reftag);
		emu_md_store(ns, slba + b, md);
		if (ns->pi != 3)
			reftag++;
	}
	return 0;
}

void nvp_emu_md_deallocate(struct emu_ns *ns, uint64_t slba, uint64_t nlb)
{
	if (ns->ms)
		nvp_emu_ns_zero_range(ns, ns->md_off + slba * ns->ms, nlb * ns->ms);
}

void nvp_emu_md_corrupt(struct nvp_emu *emu, const struct nvp_sqe *sqe,
			const struct emu_cmd_fault *f)
{
	uint64_t slba, first, end;
	uint32_t nlb;
	struct emu_ns *ns;

	if (sqe->nsid == 0 || sqe->nsid > emu->nr_ns || !nvp_emu_cmd_lba_range(sqe, &slba, &nlb))
		return;
	ns = &emu->ns[sqe->nsid - 1];
	if (!ns->pi || ns->unusable)
		return;
	first = slba > f->pi_slba ? slba : f->pi_slba;
	end = slba + nlb;
	if (f->pi_nlb < end - f->pi_slba && f->pi_slba < end)
		end = f->pi_slba + f->pi_nlb;
	if (end > ns->nblocks)
		end = ns->nblocks;
	for (uint64_t lba = first; lba < end; lba++) {
		/* Stored inverted: flipping a bit there flips it as read. */
		uint8_t *t = ns->md + lba * ns->ms + ns->pi_off;

		/* The last byte of each field (16-bit or 64-bit guard layout). */
		if (f->pi_fields & NVP_EMU_PI_GUARD)
			t[ns->pif ? 7 : 1] ^= 1;
		if (f->pi_fields & NVP_EMU_PI_APPTAG)
			t[ns->pif ? 9 : 3] ^= 1;
		if (f->pi_fields & NVP_EMU_PI_REFTAG)
			t[ns->pif ? 15 : 7] ^= 1;
	}
}
