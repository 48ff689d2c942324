# ruff: noqa: E501
"""What the bot says, in Bahasa Indonesia and English: one message a line."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "id": {
        "how_to_link": (
            "Chat ini belum terhubung dengan data pegawai.\n\n"
            "Mintalah tautan atau kode pendaftaran kepada admin Tenggat (perintah "
            "<code>tenggat link NIP</code>), lalu buka tautannya atau kirim "
            "<code>/start KODE</code> di sini."
        ),
        "linked": "Halo, {name}! Chat ini sekarang terhubung dengan NIP {key}.\n\n{help}",
        "code_unknown": "Maaf, kode pendaftaran itu tidak dikenal. Periksa kembali atau minta kode baru kepada admin.",
        "code_used": "Maaf, kode pendaftaran itu sudah pernah dipakai. Setiap kode hanya berlaku sekali; mintalah kode baru kepada admin.",
        "code_expired": "Maaf, kode pendaftaran itu sudah kedaluwarsa. Mintalah kode baru kepada admin.",
        "chat_taken": "Maaf, chat ini sudah terhubung dengan {name} (NIP {key}); satu chat hanya untuk satu pegawai. Kirim /putus dulu (atau minta admin memutuskannya), lalu pakai kode ini lagi.",
        "help": (
            "Perintah yang tersedia:\n"
            "/status — kewajiban Anda yang masih terbuka, tenggatnya, dan capaian IKI\n"
            "/lapor — laporkan bahwa suatu kewajiban sudah disampaikan\n"
            "/batal — batalkan laporan yang sedang diisi\n"
            "/putus — putuskan chat ini dari data Anda\n"
            "/bantuan — pesan ini"
        ),
        "help_admin": "/verifikasi — laporan yang menunggu verifikasi (admin)",
        "help_digest": "/rekap — ringkasan kepatuhan lingkup Anda",
        "unknown_command": "Maaf, perintah {command} tidak dikenal. Ketik /bantuan untuk daftar perintah.",
        "not_understood": "Maaf, saya tidak memahami pesan itu. Ketik /bantuan untuk daftar perintah.",
        "too_long": "Maaf, pesan itu terlalu panjang (lebih dari {limit} karakter) dan tidak diproses.",
        "forwarded": "Maaf, pesan terusan tidak diproses. Kirim pesan Anda sendiri, atau ketik /bantuan.",
        "unsupported": "Maaf, jenis pesan itu tidak didukung. Bukti dapat berupa teks, foto, atau dokumen.",
        "throttled": "Terlalu banyak pesan dalam waktu singkat. Mohon tunggu sebentar sebelum mengirim lagi.",
        "error": "Maaf, terjadi kesalahan saat memproses pesan Anda. Tidak ada yang dicatat; silakan coba lagi nanti.",
        "status_head": "<b>Kewajiban {name}</b> per {date}:",
        "status_none": "Tidak ada kewajiban yang masih terbuka. Terima kasih!",
        "status_line": "• {rule} periode {period}: {status}{due}",
        "status_due": ", batas {date}",
        "status_late": " ({days} hari)",
        "achievement": "Capaian IKI tahun ini: <b>{percent}</b> ({on_time} dari {due} kewajiban tepat waktu).",
        "achievement_none": "Capaian IKI tahun ini: belum ada kewajiban yang jatuh tempo.",
        "pick": "Pilih kewajiban yang sudah Anda sampaikan, atau ketik <code>/lapor KODE PERIODE</code> (misalnya <code>/lapor SKP 2025</code>).",
        "pick_none": "Tidak ada kewajiban terbuka untuk dipilih. Untuk periode lain ketik <code>/lapor KODE PERIODE</code> (misalnya <code>/lapor SKP 2025</code>).",
        "lapor_usage": "Ketik <code>/lapor KODE PERIODE</code>, misalnya <code>/lapor SKP 2025</code>, atau cukup /lapor untuk memilih.",
        "bad_rule": "Maaf, laporan tidak dapat dicatat: {reason}.",
        "not_carried": "Maaf, aturan {code} tidak termasuk kewajiban Anda, jadi tidak dapat dilaporkan dari chat ini.",
        "disabled": "Maaf, aturan {code} sedang tidak diberlakukan.",
        "impossible_period": "Maaf, periode {period} tidak mungkin dilaporkan sekarang.",
        "ask_evidence": (
            "Lapor <b>{rule} periode {period}</b>.\n"
            "Kirim bukti berupa teks (nomor tanda terima atau tautan), foto, atau dokumen; "
            "atau tekan <i>Kirim tanpa bukti</i>."
        ),
        "no_evidence": "Kirim tanpa bukti",
        "cancel_button": "Batal",
        "cancelled": "Laporan dibatalkan; tidak ada yang dicatat.",
        "nothing_to_cancel": "Tidak ada laporan yang sedang diisi.",
        "evidence_too_long": "Maaf, bukti teks paling banyak {limit} karakter. Kirim yang lebih singkat, atau tekan /batal.",
        "receipt": (
            "✅ <b>Tanda terima No. {number}</b>\n"
            "{rule} periode {period}\n"
            "Dicatat: {date} pukul {time}\n"
            "Bukti: {evidence}\n"
            "Status: {status}"
        ),
        "evidence_none": "-",
        "evidence_photo": "foto",
        "evidence_document": "dokumen {name}",
        "status_recorded": "tercatat",
        "needs_verification": "menunggu verifikasi admin",
        "stale_button": "Tombol ini sudah tidak berlaku.",
        "denied": "Maaf, perintah ini hanya untuk {who}.",
        "who_admin": "admin",
        "who_digest": "Sekretaris dan kepala unit",
        "verify_none": "Tidak ada laporan yang menunggu verifikasi.",
        "verify_head": "Laporan yang menunggu verifikasi (tekan untuk memverifikasi):",
        "verify_line": "• {name}: {code} {period}, dilaporkan {date}; bukti: {evidence}",
        "verify_button": "✓ {code} {period} — {name}",
        "verified": "Diverifikasi: {name}, {code} periode {period}.",
        "verified_notice": "Laporan Anda {code} periode {period} telah diverifikasi. Terima kasih!",
        "verify_gone": "Laporan itu sudah diverifikasi atau diganti dengan laporan yang lebih baru.",
        "done_button": "✅ Sudah lapor {code} {period}",
        "unlink_ask": (
            "Putuskan chat ini dari data {name} (NIP {key})?\n"
            "Tenggat tidak akan mengirim pengingat ke chat ini lagi, dan untuk menghubungkannya "
            "kembali Anda perlu kode baru dari admin."
        ),
        "unlink_button": "Ya, putuskan",
        "unlink_done": (
            "Chat ini sudah tidak terhubung dengan NIP {key}. Untuk menghubungkannya kembali, "
            "mintalah kode baru kepada admin Tenggat."
        ),
        "unlink_kept": "Baik, chat ini tetap terhubung.",
    },
    "en": {
        "how_to_link": (
            "This chat is not linked to an employee yet.\n\n"
            "Ask the Tenggat admin for a link or code (command <code>tenggat link NIP</code>), "
            "then open the link or send <code>/start CODE</code> here."
        ),
        "linked": "Hello, {name}! This chat is now linked to NIP {key}.\n\n{help}",
        "code_unknown": "Sorry, that code is not known. Check it or ask the admin for a new one.",
        "code_used": "Sorry, that code has already been used. Each code works once; ask the admin for a new one.",
        "code_expired": "Sorry, that code has expired. Ask the admin for a new one.",
        "chat_taken": "Sorry, this chat is already linked to {name} (NIP {key}); one chat belongs to one employee. Send /putus first (or ask the admin to unlink it), then use this code again.",
        "help": (
            "Commands:\n"
            "/status — your open obligations, their deadlines and your IKI achievement\n"
            "/lapor — report that an obligation was handed in\n"
            "/batal — cancel the report being filled in\n"
            "/putus — unlink this chat from you\n"
            "/bantuan — this message"
        ),
        "help_admin": "/verifikasi — reports waiting for verification (admin)",
        "help_digest": "/rekap — the compliance digest of your scope",
        "unknown_command": "Sorry, {command} is not a command. Send /bantuan for the list.",
        "not_understood": "Sorry, I did not understand that. Send /bantuan for the list of commands.",
        "too_long": "Sorry, that message is too long (more than {limit} characters) and was not processed.",
        "forwarded": "Sorry, forwarded messages are not processed. Send your own message, or /bantuan.",
        "unsupported": "Sorry, that kind of message is not supported. Evidence may be text, a photo or a document.",
        "throttled": "Too many messages in a short time. Please wait a moment before sending more.",
        "error": "Sorry, something went wrong with your message. Nothing was recorded; please try again later.",
        "status_head": "<b>Obligations of {name}</b> as of {date}:",
        "status_none": "Nothing is open. Thank you!",
        "status_line": "• {rule} period {period}: {status}{due}",
        "status_due": ", due {date}",
        "status_late": " ({days} days)",
        "achievement": "IKI achievement this year: <b>{percent}</b> ({on_time} of {due} on time).",
        "achievement_none": "IKI achievement this year: nothing has fallen due yet.",
        "pick": "Pick the obligation you handed in, or send <code>/lapor CODE PERIOD</code> (e.g. <code>/lapor SKP 2025</code>).",
        "pick_none": "Nothing open to pick. For another period send <code>/lapor CODE PERIOD</code> (e.g. <code>/lapor SKP 2025</code>).",
        "lapor_usage": "Send <code>/lapor CODE PERIOD</code>, e.g. <code>/lapor SKP 2025</code>, or just /lapor to pick.",
        "bad_rule": "Sorry, the report cannot be recorded: {reason}.",
        "not_carried": "Sorry, rule {code} is not one of your obligations, so it cannot be reported from this chat.",
        "disabled": "Sorry, rule {code} is not in force.",
        "impossible_period": "Sorry, period {period} cannot be reported now.",
        "ask_evidence": (
            "Report <b>{rule} period {period}</b>.\n"
            "Send the evidence as text (a receipt number or link), a photo or a document; "
            "or press <i>Send without evidence</i>."
        ),
        "no_evidence": "Send without evidence",
        "cancel_button": "Cancel",
        "cancelled": "Report cancelled; nothing was recorded.",
        "nothing_to_cancel": "No report is being filled in.",
        "evidence_too_long": "Sorry, text evidence is at most {limit} characters. Send a shorter one, or /batal.",
        "receipt": (
            "✅ <b>Receipt No. {number}</b>\n"
            "{rule} period {period}\n"
            "Recorded: {date} at {time}\n"
            "Evidence: {evidence}\n"
            "Status: {status}"
        ),
        "evidence_none": "-",
        "evidence_photo": "photo",
        "evidence_document": "document {name}",
        "status_recorded": "recorded",
        "needs_verification": "waiting for an admin's verification",
        "stale_button": "This button no longer works.",
        "denied": "Sorry, this command is only for {who}.",
        "who_admin": "admins",
        "who_digest": "the Secretary and unit heads",
        "verify_none": "No report is waiting for verification.",
        "verify_head": "Reports waiting for verification (press one to verify it):",
        "verify_line": "• {name}: {code} {period}, reported {date}; evidence: {evidence}",
        "verify_button": "✓ {code} {period} — {name}",
        "verified": "Verified: {name}, {code} period {period}.",
        "verified_notice": "Your report {code} period {period} has been verified. Thank you!",
        "verify_gone": "That report was already verified or replaced by a newer one.",
        "done_button": "✅ Reported {code} {period}",
        "unlink_ask": (
            "Unlink this chat from {name} (NIP {key})?\n"
            "Tenggat will send no more reminders to this chat, and linking it again takes a "
            "new code from the admin."
        ),
        "unlink_button": "Yes, unlink",
        "unlink_done": (
            "This chat is no longer linked to NIP {key}. To link it again, ask the Tenggat "
            "admin for a new code."
        ),
        "unlink_kept": "All right, this chat stays linked.",
    },
}
