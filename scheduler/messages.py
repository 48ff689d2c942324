"""What the admin's commands say, in Indonesian and English: table headings and messages.

Plain data and one function, importing nothing of the project: every command module reads
it at start-up, and `tenggat --help` must not pay for the rule engine that
`scheduler.words` (rules, dates and statuses in words) brings with it.
"""

from __future__ import annotations

HEADINGS = {
    "id": {
        "rules": "Katalog aturan Tenggat",
        "code": "Kode",
        "name": "Nama",
        "recurrence": "Pengulangan",
        "next_due": "Tenggat berikutnya",
        "confidence": "Dasar",
        "period": "Periode",
        "due": "Tenggat",
        "reason": "Keterangan",
        "status": "Kepatuhan IKI",
        "unit": "Unit",
        "achievement": "Capaian",
        "roster": "Daftar pegawai",
        "nip": "NIP",
        "superior": "Atasan langsung",
        "codes": "Aturan",
        "history": "Riwayat laporan",
        "recorded_at": "Dicatat",
        "submitted_at": "Disampaikan",
        "source": "Sumber",
        "evidence": "Bukti",
        "verified": "Verifikasi",
        "current": "Berlaku",
        "agency": "(instansi)",
        "yes": "ya",
        "replaced": "diganti",
        "events": "Peristiwa",
        "event": "Peristiwa",
        "key": "Kunci",
        "day": "Tanggal",
        "recorded_by": "Dicatat oleh",
        "outbox": "Antrean kirim",
        "state": "Keadaan",
        "state_pending": "menunggu",
        "state_claimed": "sedang dikirim",
        "state_sent": "terkirim",
        "state_dead": "gagal",
        "recipient": "Penerima",
        "about": "Perihal",
        "planned": "Direncanakan",
        "sent_at": "Dikirim",
        "kind_reminder": "pengingat",
        "kind_due_today": "jatuh tempo hari ini",
        "kind_overdue": "lewat tenggat",
        "kind_escalation": "eskalasi",
        "kind_digest": "ringkasan mingguan",
        "kind_contact": "kontak bermasalah",
        "channel": "Saluran",
        "detail": "Tanda terima / alasan",
    },
    "en": {
        "rules": "Tenggat rule catalog",
        "code": "Code",
        "name": "Name",
        "recurrence": "Recurrence",
        "next_due": "Next due",
        "confidence": "Basis",
        "period": "Period",
        "due": "Due",
        "reason": "Note",
        "status": "IKI compliance",
        "unit": "Unit",
        "achievement": "Achievement",
        "roster": "Employees",
        "nip": "NIP",
        "superior": "Direct superior",
        "codes": "Rules",
        "history": "Submission history",
        "recorded_at": "Recorded",
        "submitted_at": "Submitted",
        "source": "Source",
        "evidence": "Evidence",
        "verified": "Verified",
        "current": "Current",
        "agency": "(agency)",
        "yes": "yes",
        "replaced": "replaced",
        "events": "Events",
        "event": "Event",
        "key": "Key",
        "day": "Day",
        "recorded_by": "Recorded by",
        "outbox": "Outbox",
        "state": "State",
        "state_pending": "pending",
        "state_claimed": "sending",
        "state_sent": "sent",
        "state_dead": "dead",
        "recipient": "Recipient",
        "about": "About",
        "planned": "Planned",
        "sent_at": "Sent",
        "kind_reminder": "reminder",
        "kind_due_today": "due today",
        "kind_overdue": "overdue",
        "kind_escalation": "escalation",
        "kind_digest": "weekly digest",
        "kind_contact": "contact problem",
        "channel": "Channel",
        "detail": "Receipt / reason",
    },
}


MESSAGES = {
    "id": {
        "no_employee": "tidak ada pegawai dengan NIP {ident!r}",
        "unknown_rule": "aturan {code!r} tidak dikenal",
        "bad_period": "periode {period!r} tidak cocok untuk {code} (contoh: {example})",
        "unknown_event": "tidak ada aturan yang menunggu peristiwa {code!r}",
        "bad_event_key": "kunci peristiwa {key!r} harus tahun anggaran, misalnya 2025",
        "superior_loop": "{superior} sudah melapor kepada {employee}: atasan menjadi berputar",
        "hint": "maksud Anda: {hints}?",
        "hint_roster": "lihat `tenggat roster list`",
        "unsupported_format": "{path}: berkas {suffix} tidak didukung; gunakan .csv atau .xlsx",
        "xlsx_as_csv": "{path} adalah buku kerja Excel, bukan teks CSV: ganti namanya menjadi .xlsx",
        "binary_csv": '{path} bukan berkas teks CSV; simpan dari Excel sebagai "CSV UTF-8" atau .xlsx',
        "not_utf8": '{path} bukan teks UTF-8 (bita {position}); simpan dari Excel sebagai "CSV UTF-8"',
        "bad_csv": "{path}: baris {row}: {reason}",
        "csv_cell_huge": "{path}: baris {row}: sebuah sel jauh lebih panjang dari {limit} karakter yang diizinkan",
        "bad_xlsx": "{path} tidak dapat dibaca sebagai buku kerja Excel ({reason})",
        "sheet_too_big": "{path} berukuran {size} bita, melebihi batas {limit} bita untuk sebuah lembar",
        "xlsx_unpacked": "{path} akan menjadi {size} bita setelah dibuka, melebihi batas {limit} bita; apakah ini benar lembar Tenggat?",
        "too_many_rows": "{path} berisi lebih dari {limit} baris; bagi menjadi beberapa berkas",
        "too_many_columns": "{path} berisi lebih dari {limit} kolom",
        "too_long": "{field}: {length} karakter, paling banyak {limit}: “{start}…”",
        "too_long_at": "baris {line}: {field}: {length} karakter, paling banyak {limit}: “{start}…”",
        "empty_file": "{path} kosong: diharapkan baris judul ({columns}) dan baris data",
        "no_rows": "{path} hanya berisi baris judul, tanpa baris data",
        "bad_header": "{path}: kolom tidak sesuai (kurang: {missing}; tidak dikenal: {unknown}); seharusnya: {expected}",
        "duplicate_column": "{path}: kolom {column!r} muncul dua kali",
        "unnamed_column": "{path}: kolom {number} berisi nilai tetapi tanpa judul",
        "extra_cells": "{count} sel melewati kolom terakhir ({delimiter!r} di dalam nilai tanpa tanda kutip?)",
        "excel_number": "Excel mengubahnya menjadi angka: format kolom sebagai Teks lalu ketik ulang",
        "no_key": "key dan nip kosong: pegawai baru memerlukan NIP atau kunci TMP-",
        "bad_key": "key {key!r} bukan NIP 18 digit dan bukan kunci sementara TMP-",
        "bad_nip": "nip {nip!r} bukan 18 digit",
        "nip_number": "nip {nip} tersimpan sebagai angka, yang hanya menyimpan 15 digit",
        "nip_differs": "nip {nip} berbeda dari key {key}: kunci NIP tidak dapat diubah (tambahkan baris dengan NIP yang benar dan isi active = no pada baris ini)",
        "same_employee": "pegawai yang sama dengan baris {other}",
        "nip_twice": "NIP {nip} juga ada di baris {other}",
        "nip_twice_names": "NIP {nip} dipakai untuk {name!r} di sini dan untuk {other_name!r} di baris {other}",
        "nip_taken": "NIP {nip} sudah dimiliki {key} ({name})",
        "chat_taken": (
            "chat Telegram {chat} sudah terhubung dengan {name} ({key}); satu chat hanya untuk "
            'satu pegawai: kosongkan dulu dengan `tenggat contact {key} --telegram ""`'
        ),
        "chat_twice": "chat Telegram {chat} juga diberikan kepada {name} ({key}) di baris {other}",
        "name_missing": "nama kosong",
        "unknown_role": "peran {role!r} tidak dikenal (peran: {roles})",
        "superior_unknown": "atasan {superior!r} tidak ada di berkas maupun di basis data",
        "superior_skipped": "atasan {superior!r} ada di baris {other}, yang bermasalah",
        "superior_self": "pegawai tidak dapat menjadi atasannya sendiri",
        "superior_loop_rows": "atasan berputar: {chain}",
        "bad_email": "{email!r} bukan alamat e-mail",
        "bad_chat_id": "telegram_chat_id {chat_id!r} bukan angka",
        "bad_flag": "{column} {value!r} bukan yes/no",
        "empty_cell": "{column} kosong",
        "bad_moment": "submitted_at {value!r} bukan tanggal atau waktu (misalnya 2025-02-10 atau 2025-02-10 14:30)",
        "future": "submitted_at {when} ada di masa depan (sekarang: {now})",
        "no_cuti_bersama": "cuti bersama {year} belum diketahui: tambahkan ke [[calendar.override]] setelah SKB terbit",
        "estimates": "sebagian hari libur {year} masih perkiraan",
        # What the admin's commands report.
        "db_ready": "basis data siap: {url}",
        "iki_imported": "diimpor {blocks} blok IKI → {employees} pegawai: {created} baru, {updated} diperbarui, {unchanged} tetap",
        "iki_would_import": "akan diimpor (uji coba) {blocks} blok IKI → {employees} pegawai: {created} baru, {updated} diperbarui, {unchanged} tetap",
        "iki_problem": "  baris {line}: [{severity}] {text}",
        "plan_summary": "{notices} pemberitahuan dalam {messages} pesan pada {moment}",
        "roster_exported": "{count} pegawai diekspor ke {file}",
        "roster_imported": "{file} diimpor: {created} baru, {updated} diperbarui, {unchanged} tetap, {skipped} dilewati",
        "roster_would_import": "{file} akan diimpor (uji coba): {created} baru, {updated} diperbarui, {unchanged} tetap, {skipped} dilewati",
        "submissions_recorded": "{count} laporan dicatat dari {file}; {skipped} baris dilewati",
        "submissions_would_record": "{count} laporan akan dicatat (uji coba) dari {file}; {skipped} baris dilewati",
        "sheet_row": "baris {row}: {reason}",
        "link_whom": "sebutkan satu NIP, atau --all dengan --out BERKAS dan/atau --mail",
        "link_all_needs": "--all memerlukan --out BERKAS (.csv atau .xlsx), --mail, atau keduanya",
        "link_out_needs_all": "--out hanya bersama --all",
        "link_out_kind": "gunakan berkas .csv atau .xlsx",
        "link_out_failed": "{file} tidak dapat ditulis ({reason}); tidak ada kode yang diubah, kode sebelumnya tetap berlaku",
        "link_out_kept": "kode baru sudah berlaku, tetapi {file} tidak dapat diganti ({reason}): kode-kode itu ada di {kept}",
        "link_mail_needs_smtp": "--mail memerlukan server SMTP: isi [smtp] host (TENGGAT_SMTP_HOST)",
        "unknown_unit": "unit {unit!r} tidak dikenal",
        "units_are": "unit yang ada: {units}",
        "sheet_created": "  + baris {row}: {key} {name}",
        "sheet_updated": "  ~ baris {row}: {key} {name}: {changes}",
        "skipped_rows": "  baris dilewati: {rows}",
        "nothing_written": "tidak ada yang ditulis: {count} baris bermasalah; perbaiki, atau gunakan --skip-bad untuk menulis baris lainnya",
        "links_written": "{count} kode tautan ditulis ke {file}; masing-masing berlaku sekali, sampai kedaluwarsa",
        "link_code": "kode:        {code}",
        "link_url": "tautan:      {url}",
        "link_send": "atau kirim:  /start {code}",
        "link_valid": "berlaku sampai {until}, sekali pakai",
        "links_mailed": "{sent} dari {total} kode tautan terkirim lewat e-mail",
        "link_not_mailed": "tidak terkirim ke {recipient} <{address}>: {error}; kode {code}",
        "links_not_mailed": "{count} kode tautan tidak terkirim lewat e-mail (lihat di atas)",
        "bot_name_unknown": "peringatan: nama bot tidak dapat ditanyakan ke Telegram ({error}); gunakan --bot",
        "unlinked": "{name} ({key}): chat {chat} dilepas",
        "verified": "{code} {period}: {name} ({key}) @ {stamp}, terverifikasi",
        "no_submission": "{key} belum punya laporan {code} {period}",
        "already_verified": "{code} {period} milik {key} sudah diverifikasi ({by})",
        "demo_not_fresh": "basis data sudah berisi {count} pegawai; jalankan demo pada basis data baru, misalnya TENGGAT_DATABASE_URL=sqlite:///demo.db tenggat demo",
        "telegram_not_configured": "telegram belum diatur: isi TENGGAT_TELEGRAM_TOKEN",
        "email_not_configured": "email belum diatur: isi [smtp] host di config.toml",
        "to_needed": "--to diperlukan untuk {channel} (id chat atau alamat)",
        "chat_id_number": "id chat Telegram berupa angka",
        "test_text": "Pesan uji dari Tenggat: saluran ini siap dipakai.",
        "test_subject": "Tenggat: pesan uji",
        "sent_via": "terkirim lewat {channel}: {receipt}",
        "not_sent_permanent": "tidak terkirim (permanen): {error}",
        "not_sent_transient": "tidak terkirim (sementara, coba lagi nanti): {error}",
        "demo_next": "berikutnya: tenggat roster list · tenggat status --as-of 2025-03-03 · tenggat event set APBD_ADOPTED 2025 <tanggal penetapan APBD>",
        # The IKI importer's problems and review notes (scheduler/iki*.py).
        "iki_block": "blok {number}: {note}",
        "iki_title_only": "baris judul di L{line} tanpa isi IKI; diabaikan",
        "iki_no_title": "baris judul tidak ada; blok dianggap mulai di sini",
        "iki_no_name_no_nip": "nama dan NIP tidak ditemukan; blok tidak diimpor",
        "iki_nip_missing": "NIP tidak ada; diberi kunci sementara",
        "iki_bad_nip": "NIP {nip} rusak; diberi kunci sementara",
        "iki_bad_nip_no_name": "NIP {nip} rusak dan nama tidak ada; blok tidak diimpor",
        "iki_name_missing": "nama tidak ada; ditampilkan sebagai {unnamed}",
        "iki_no_signing_date": "tanggal tanda tangan tidak ada",
        "iki_uncertain_match": "kecocokan belum pasti (hanya di PENJELASAN): {code}",
        "iki_no_indicator": "tidak ada indikator yang cocok dengan aturan mana pun",
        "iki_jabatan_differs_took": "JABATAN {position} berbeda dari tanda tangan; dipakai {signed}",
        "iki_jabatan_differs": "JABATAN {position} berbeda dari tanda tangan {signed}",
        "iki_jabatan_is_tugas": "baris JABATAN berisi teks TUGAS",
        "iki_jabatan_missing": "judul JABATAN tidak ada",
        "iki_position_from_signature": "{reason}; jabatan diambil dari baris tanda tangan {position}",
        "iki_position_from_unlabelled": "{reason}; jabatan diambil dari baris tanpa label {position}",
        "iki_position_unknown": "{reason}; jabatan tidak diketahui",
        "iki_unit_unknown": "unit tidak diketahui (tanpa judul JABATAN/FUNGSI); atasan sementara Sekretaris",
        "iki_unit_unknown_near": "unit tidak diketahui (tanpa judul JABATAN/FUNGSI); blok di sekitarnya ada di {unit}; atasan sementara Sekretaris",
        "iki_merged_by_name": "tanpa NIP yang sah; digabung menurut nama dengan {key}",
        "iki_name_differs": "nama {name} berbeda dari {other}",
        "iki_no_unit_head": "tidak ada kepala {unit} dalam daftar pegawai; atasan ditetapkan Sekretaris",
        "iki_superior_unknown": "tidak ada Sekretaris dalam daftar pegawai; atasan tidak diketahui",
        "iki_no_secretary": "tidak ada Sekretaris dalam daftar pegawai: kepala unit, pejabat fungsional, dan staf tanpa kepala unit tidak mempunyai atasan",
        "iki_empty_text": "teks kosong: diharapkan dokumen IKI ('INDIKATOR KINERJA INDIVIDU')",
        "iki_binary_text": "data biner (bita NUL): diharapkan IKI berupa teks biasa",
        "iki_unprintable": "sebagian besar karakter tidak dapat dicetak: diharapkan IKI berupa teks biasa",
        "iki_no_block": "tidak ditemukan blok 'INDIKATOR KINERJA INDIVIDU': diharapkan dokumen IKI yang setiap bloknya diawali judul itu, lalu judul JABATAN, tabel indikator, dan tanda tangan dengan nama dan NIP",
        "iki_binary_file": "{path} adalah berkas biner, bukan teks IKI",
        "db_no_file": (
            "berkas basis data {path} tidak ada: buat dengan `tenggat init` (atau `tenggat "
            "demo`), atau atur path yang benar di [database] url atau TENGGAT_DATABASE_URL"
        ),
        "db_gone": (
            "berkas basis data {path} terhapus saat dipakai: layanan berhenti agar tidak ada yang "
            "ditulis ke berkas yang terhapus; pulihkan dari cadangan (atau jalankan `tenggat "
            "init` untuk mulai dari awal) lalu jalankan lagi"
        ),
        "db_replaced": (
            "berkas basis data {path} diganti berkas lain saat dipakai: layanan berhenti; "
            "jalankan lagi untuk bekerja dengan berkas yang sekarang ada"
        ),
        "db_other": (
            "basis data {url} bukan lagi yang dipakai saat proses ini mulai (id instansnya "
            "berubah: dihapus lalu dibuat ulang, atau diganti yang lain): layanan berhenti; "
            "jalankan lagi untuk bekerja dengan basis data yang sekarang ada"
        ),
        "db_vanished": (
            "berkas basis data {path} tidak ada, padahal penjadwal pernah berjalan padanya "
            "(berkas kunci {lock}): pulihkan dari cadangan, atau hapus {lock} lalu jalankan "
            "`tenggat init` untuk mulai dari awal"
        ),
        "db_links": (
            "berkas basis data {path} punya {count} nama (hard link): kunci penjadwal di samping "
            "satu nama tidak menjaga nama lainnya; hapus link tambahan itu"
        ),
        "db_not_initialised": "basis data {url} belum diinisialisasi: jalankan `tenggat init`",
        "db_revision": (
            "basis data {url} pada revisi {revision}, versi ini memerlukan {head}: jalankan "
            "`tenggat init` (atau perbarui Tenggat bila {revision} lebih baru)"
        ),
        "db_failed": "basis data {url} tidak dapat dipakai: {error}",
        "db_no_schema": (
            "basis data {url} tidak dapat dipakai: {error}; skema pada search_path di URL "
            "tidak ada: buat dulu (CREATE SCHEMA …) atau perbaiki URL, lalu jalankan "
            "`tenggat init`"
        ),
        "db_conflict": (
            "basis data {url} menolak perubahan, tidak ada yang ditulis: {error} (perintah lain "
            "mengubah data yang sama pada saat itu? jalankan lagi)"
        ),
        "chat_clash": (
            "pembaruan skema berhenti: satu chat Telegram terhubung dengan lebih dari satu pegawai "
            "({clashes}), sehingga bot bisa bertindak atas nama siapa saja di antaranya. Sisakan "
            'satu pegawai per chat, mis. `tenggat contact {key} --telegram ""` (atau id chat '
            "pegawai itu sendiri), lalu jalankan `tenggat init`"
        ),
        "health_replay": "(ulangan untuk {moment} lewat `run --once --as-of`, bukan jam)",
        "doctor_unreached": "{count} hanya dapat dijangkau di konsol — {groups}",
        "unreached_no_contact": "tanpa chat Telegram dan e-mail",
        "unreached_channel_off": "kanalnya belum diatur (SMTP atau token Telegram)",
        "unreached_blocked": "chat Telegram tidak dapat dijangkau",
    },
    "en": {
        "no_employee": "no employee with NIP {ident!r}",
        "unknown_rule": "unknown rule {code!r}",
        "bad_period": "period {period!r} does not fit {code} (e.g. {example})",
        "unknown_event": "no rule waits for event {code!r}",
        "bad_event_key": "event key {key!r} must be a budget year such as 2025",
        "superior_loop": "{superior} already reports to {employee}: that makes a loop",
        "hint": "did you mean {hints}?",
        "hint_roster": "see `tenggat roster list`",
        "unsupported_format": "{path}: {suffix} files are not supported; use .csv or .xlsx",
        "xlsx_as_csv": "{path} is an Excel workbook, not CSV text: rename it to .xlsx",
        "binary_csv": '{path} is not a text CSV file; save it from Excel as "CSV UTF-8" or as .xlsx',
        "not_utf8": '{path} is not UTF-8 text (byte {position}); save it from Excel as "CSV UTF-8"',
        "bad_csv": "{path}: row {row}: {reason}",
        "csv_cell_huge": "{path}: row {row}: a cell is far longer than the {limit} characters allowed",
        "bad_xlsx": "{path} cannot be read as an Excel workbook ({reason})",
        "sheet_too_big": "{path} is {size} bytes, more than the {limit} bytes a sheet may have",
        "xlsx_unpacked": "{path} would unpack to {size} bytes, more than the {limit} allowed; is it really a Tenggat sheet?",
        "too_many_rows": "{path} has more than {limit} rows; split it into smaller files",
        "too_many_columns": "{path} has more than {limit} columns",
        "too_long": "{field}: {length} characters, at most {limit}: “{start}…”",
        "too_long_at": "line {line}: {field}: {length} characters, at most {limit}: “{start}…”",
        "empty_file": "{path} is empty: expected a header row ({columns}) and data rows",
        "no_rows": "{path} has a header row but no data rows",
        "bad_header": "{path}: wrong columns (missing: {missing}; unknown: {unknown}); expected: {expected}",
        "duplicate_column": "{path}: column {column!r} appears twice",
        "unnamed_column": "{path}: column {number} has values but no heading",
        "extra_cells": "{count} cell(s) beyond the last column (a {delimiter!r} inside a value that is not quoted?)",
        "excel_number": "Excel turned it into a number: format the column as Text and type it again",
        "no_key": "key and nip are both empty: a new employee needs a NIP or a TMP- key",
        "bad_key": "key {key!r} is neither an 18-digit NIP nor a provisional TMP- key",
        "bad_nip": "nip {nip!r} is not 18 digits",
        "nip_number": "nip {nip} is stored as a number, which keeps only 15 digits",
        "nip_differs": "nip {nip} differs from key {key}: a NIP key does not change (add a row with the right NIP and set active to no on this one)",
        "same_employee": "the same employee as row {other}",
        "nip_twice": "NIP {nip} is also on row {other}",
        "nip_twice_names": "NIP {nip} is used for {name!r} here and for {other_name!r} on row {other}",
        "nip_taken": "NIP {nip} already belongs to {key} ({name})",
        "chat_taken": (
            "Telegram chat {chat} is already linked to {name} ({key}); one chat belongs to one "
            'employee: clear it first with `tenggat contact {key} --telegram ""`'
        ),
        "chat_twice": "Telegram chat {chat} is also given to {name} ({key}) on row {other}",
        "name_missing": "name is empty",
        "unknown_role": "unknown role {role!r} (roles: {roles})",
        "superior_unknown": "superior {superior!r} is neither in the file nor in the database",
        "superior_skipped": "superior {superior!r} is on row {other}, which has problems",
        "superior_self": "an employee cannot be their own superior",
        "superior_loop_rows": "reporting loop: {chain}",
        "bad_email": "{email!r} is not an e-mail address",
        "bad_chat_id": "telegram_chat_id {chat_id!r} is not a number",
        "bad_flag": "{column} {value!r} is not yes/no",
        "empty_cell": "{column} is empty",
        "bad_moment": "submitted_at {value!r} is not a date or time (e.g. 2025-02-10 or 2025-02-10 14:30)",
        "future": "submitted_at {when} is in the future (now: {now})",
        "no_cuti_bersama": "no cuti bersama known for {year}: add them to [[calendar.override]] once the SKB is published",
        "estimates": "some {year} holidays are estimates (perkiraan)",
        # What the admin's commands report.
        "db_ready": "database ready: {url}",
        "iki_imported": "imported {blocks} IKI blocks → {employees} employees: {created} new, {updated} updated, {unchanged} unchanged",
        "iki_would_import": "would import {blocks} IKI blocks → {employees} employees: {created} new, {updated} updated, {unchanged} unchanged",
        "iki_problem": "  line {line}: [{severity}] {text}",
        "plan_summary": "{notices} notices in {messages} messages at {moment}",
        "roster_exported": "exported {count} employees to {file}",
        "roster_imported": "imported {file}: {created} created, {updated} updated, {unchanged} unchanged, {skipped} skipped",
        "roster_would_import": "would import {file}: {created} created, {updated} updated, {unchanged} unchanged, {skipped} skipped",
        "submissions_recorded": "recorded {count} submissions from {file}; {skipped} rows skipped",
        "submissions_would_record": "would record {count} submissions from {file}; {skipped} rows skipped",
        "sheet_row": "row {row}: {reason}",
        "link_whom": "give a NIP, or --all with --out FILE and/or --mail",
        "link_all_needs": "--all needs --out FILE (.csv or .xlsx), --mail, or both",
        "link_out_needs_all": "--out goes with --all",
        "link_out_kind": "use a .csv or .xlsx file",
        "link_out_failed": "{file} cannot be written ({reason}); no code was changed, the previous codes still work",
        "link_out_kept": "the new codes are in force, but {file} could not be replaced ({reason}): they are in {kept}",
        "link_mail_needs_smtp": "--mail needs an SMTP server: set [smtp] host (TENGGAT_SMTP_HOST)",
        "unknown_unit": "unknown unit {unit!r}",
        "units_are": "units: {units}",
        "sheet_created": "  + row {row}: {key} {name}",
        "sheet_updated": "  ~ row {row}: {key} {name}: {changes}",
        "skipped_rows": "  skipped rows: {rows}",
        "nothing_written": "nothing written: {count} row(s) with problems; correct them, or use --skip-bad to write the other rows",
        "links_written": "{count} link codes written to {file}; each works once, until it expires",
        "link_code": "code:    {code}",
        "link_url": "link:    {url}",
        "link_send": "or send: /start {code}",
        "link_valid": "valid until {until}, once",
        "links_mailed": "{sent} of {total} link codes e-mailed",
        "link_not_mailed": "not e-mailed to {recipient} <{address}>: {error}; code {code}",
        "links_not_mailed": "{count} link codes not e-mailed (listed above)",
        "bot_name_unknown": "warning: cannot ask Telegram for the bot's name ({error}); use --bot",
        "unlinked": "{name} ({key}): chat {chat} unlinked",
        "verified": "{code} {period}: {name} ({key}) @ {stamp}, verified",
        "no_submission": "{key} has no submission of {code} {period}",
        "already_verified": "{code} {period} of {key} is already verified ({by})",
        "demo_not_fresh": "the database already holds {count} employees; run the demo on a fresh one, e.g. TENGGAT_DATABASE_URL=sqlite:///demo.db tenggat demo",
        "telegram_not_configured": "telegram is not configured: set TENGGAT_TELEGRAM_TOKEN",
        "email_not_configured": "email is not configured: set [smtp] host in config.toml",
        "to_needed": "--to is needed for {channel} (a chat id or an address)",
        "chat_id_number": "a Telegram chat id is a number",
        "test_text": "Test message from Tenggat: this channel works.",
        "test_subject": "Tenggat: test message",
        "sent_via": "sent via {channel}: {receipt}",
        "not_sent_permanent": "not sent (permanent): {error}",
        "not_sent_transient": "not sent (transient, try again later): {error}",
        "demo_next": "next: tenggat roster list · tenggat status --as-of 2025-03-03 · tenggat event set APBD_ADOPTED 2025 <date the APBD was adopted>",
        # The IKI importer's problems and review notes (scheduler/iki*.py).
        "iki_block": "block {number}: {note}",
        "iki_title_only": "title line at L{line} has no IKI content; ignored",
        "iki_no_title": "title line missing; block assumed to start here",
        "iki_no_name_no_nip": "neither name nor NIP found; block not imported",
        "iki_nip_missing": "NIP missing; provisional key assigned",
        "iki_bad_nip": "malformed NIP {nip}; provisional key assigned",
        "iki_bad_nip_no_name": "malformed NIP {nip} and name missing; block not imported",
        "iki_name_missing": "name missing; shown as {unnamed}",
        "iki_no_signing_date": "signing date missing",
        "iki_uncertain_match": "uncertain match (PENJELASAN only): {code}",
        "iki_no_indicator": "no indicator matched any rule",
        "iki_jabatan_differs_took": "JABATAN {position} differs from signature; took {signed}",
        "iki_jabatan_differs": "JABATAN {position} differs from signature {signed}",
        "iki_jabatan_is_tugas": "JABATAN line holds the TUGAS text",
        "iki_jabatan_missing": "JABATAN header missing",
        "iki_position_from_signature": "{reason}; position taken from signature line {position}",
        "iki_position_from_unlabelled": "{reason}; position taken from unlabelled line {position}",
        "iki_position_unknown": "{reason}; position unknown",
        "iki_unit_unknown": "unit unknown (no JABATAN/FUNGSI header); superior defaults to the Sekretaris",
        "iki_unit_unknown_near": "unit unknown (no JABATAN/FUNGSI header); neighbouring blocks are in {unit}; superior defaults to the Sekretaris",
        "iki_merged_by_name": "no valid NIP; merged by name with {key}",
        "iki_name_differs": "name {name} differs from {other}",
        "iki_no_unit_head": "no head of {unit} in the roster; superior set to the Sekretaris",
        "iki_superior_unknown": "no Sekretaris in the roster; superior unknown",
        "iki_no_secretary": "no Sekretaris in the roster: heads, functional officials and staff without a unit head have no superior",
        "iki_empty_text": "empty text: expected an IKI document ('INDIKATOR KINERJA INDIVIDU')",
        "iki_binary_text": "binary data (NUL bytes): expected the IKI as plain text",
        "iki_unprintable": "mostly non-printable characters: expected the IKI as plain text",
        "iki_no_block": "no 'INDIKATOR KINERJA INDIVIDU' block found: expected an IKI document whose blocks start with that title, followed by the JABATAN header, the indicator table and the signature with name and NIP",
        "iki_binary_file": "{path} is a binary file, not IKI text",
        "db_no_file": (
            "the database file {path} does not exist: create it with `tenggat init` (or "
            "`tenggat demo`), or set the right path in [database] url or TENGGAT_DATABASE_URL"
        ),
        "db_gone": (
            "the database file {path} was deleted while in use: stopped, so that nothing is "
            "written to the deleted file; restore it from a backup (or run `tenggat init` to "
            "start afresh) and start again"
        ),
        "db_replaced": (
            "the database file {path} was replaced by another file while in use: stopped; "
            "start again to work on the file now there"
        ),
        "db_other": (
            "the database {url} is no longer the one this process started on (its instance "
            "id changed: dropped and made anew, or another restored in its place): stopped; "
            "start again to work on the database now there"
        ),
        "db_vanished": (
            "the database file {path} is missing, yet a scheduler ran on it (lock file {lock}): "
            "restore it from a backup, or delete {lock} and run `tenggat init` to start afresh"
        ),
        "db_links": (
            "the database file {path} has {count} names (hard links): the scheduler lock "
            "beside one name cannot guard the others; remove the extra links"
        ),
        "db_not_initialised": "the database {url} is not initialised: run `tenggat init`",
        "db_revision": (
            "the database {url} is at revision {revision}, this version needs {head}: run "
            "`tenggat init` (or upgrade Tenggat if {revision} is newer)"
        ),
        "db_failed": "the database {url} cannot be used: {error}",
        "db_no_schema": (
            "the database {url} cannot be used: {error}; the schema in the URL's search_path "
            "does not exist: create it (CREATE SCHEMA …) or correct the URL, then run "
            "`tenggat init`"
        ),
        "db_conflict": (
            "the database {url} refused the change, nothing was written: {error} (another "
            "command changed the same records meanwhile? run it again)"
        ),
        "chat_clash": (
            "the upgrade stopped: one Telegram chat is linked to more than one employee ({clashes}), "
            "so the bot would act for either of them. Keep one employee per chat, e.g. `tenggat "
            'contact {key} --telegram ""` (or that employee\'s own chat id), then run `tenggat init`'
        ),
        "health_replay": "(a replay of {moment} by `run --once --as-of`, not the clock)",
        "doctor_unreached": "{count} cannot be reached except on the console — {groups}",
        "unreached_no_contact": "no Telegram chat and no e-mail",
        "unreached_channel_off": "their channel is not configured (SMTP or Telegram token)",
        "unreached_blocked": "their Telegram chat cannot be reached",
    },
}


def say(message: str, language: str, **params: str) -> str:
    """A message in ``language``; a non-empty ``hints`` parameter adds "did you mean …?".

    Messages are named, not written inline, so that every one exists in both languages."""
    texts = MESSAGES[language]
    text = texts[message].format(**params)
    if params.get("hints"):
        text += "; " + texts["hint"].format(hints=params["hints"])
    elif message == "no_employee":
        text += "; " + texts["hint_roster"]
    return text


class Said(Exception):
    """An error that says itself in the admin's language: ``message`` names a text in
    `MESSAGES` and ``params`` fill it in; ``str()`` gives the English."""

    def __init__(self, message: str, **params: str) -> None:
        self.message = message
        self.params = params
        super().__init__(self.text("en"))

    def text(self, language: str) -> str:
        return say(self.message, language, **self.params)
