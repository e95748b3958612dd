-- Berth's image store (OS images and ramdisks). The file itself lives in
-- [images]images_dir as <uuid>.raw; os_hash_value is the sha256 of that
-- stored raw file, which the deploy agent downloads and verifies.
-- uploaded_checksum/uploaded_size describe the bytes as uploaded (qcow2
-- before conversion).
CREATE TABLE images (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) UNIQUE,
    disk_format VARCHAR(16) NOT NULL,
    status VARCHAR(16) NOT NULL,
    size BIGINT,
    virtual_size BIGINT,
    os_hash_algo VARCHAR(16),
    os_hash_value VARCHAR(128),
    uploaded_checksum VARCHAR(128),
    uploaded_size BIGINT,
    last_error TEXT,
    extra TEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
