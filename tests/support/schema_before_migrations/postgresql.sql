-- A store as the code before migrations (main 4453299) left it on postgresql: the DDL its
-- metadata.create_all emitted, then a row in every table, in the form that code stored.
CREATE TABLE studios (
	id VARCHAR(32) NOT NULL,
	name VARCHAR(200) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (name)
);

CREATE TABLE api_tokens (
	id VARCHAR(32) NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	role VARCHAR(20) NOT NULL,
	name VARCHAR(200) NOT NULL,
	studio_ids JSON NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (token_hash)
);

CREATE TABLE room_facts (
	room VARCHAR(64) NOT NULL,
	ms BIGINT NOT NULL,
	seq INTEGER NOT NULL,
	data BYTEA NOT NULL,
	PRIMARY KEY (room, ms, seq)
);

CREATE TABLE viewer_samples (
	room VARCHAR(64) NOT NULL,
	minute TIMESTAMP WITH TIME ZONE NOT NULL,
	node VARCHAR(32) NOT NULL,
	viewers INTEGER NOT NULL,
	uniques INTEGER NOT NULL,
	PRIMARY KEY (room, minute, node)
);

CREATE TABLE audit_log (
	id SERIAL NOT NULL,
	room VARCHAR(64) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	actor_id VARCHAR(64) NOT NULL,
	actor_name VARCHAR(200) NOT NULL,
	action VARCHAR(40) NOT NULL,
	target VARCHAR(64) NOT NULL,
	detail TEXT NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_audit_log_room ON audit_log (room);

CREATE TABLE meta (
	key VARCHAR(100) NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (key)
);

CREATE TABLE sessions (
	id VARCHAR(32) NOT NULL,
	studio_id VARCHAR(32) NOT NULL,
	title VARCHAR(400) NOT NULL,
	description TEXT NOT NULL,
	speakers JSON NOT NULL,
	language VARCHAR(40) NOT NULL,
	starts_at TIMESTAMP WITH TIME ZONE NOT NULL,
	ends_at TIMESTAMP WITH TIME ZONE NOT NULL,
	state VARCHAR(20) NOT NULL,
	auto_start BOOLEAN NOT NULL,
	auto_end BOOLEAN NOT NULL,
	qa_auto_approve BOOLEAN DEFAULT false NOT NULL,
	stream_key_hash VARCHAR(64) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	went_live_at TIMESTAMP WITH TIME ZONE,
	ended_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	FOREIGN KEY(studio_id) REFERENCES studios (id),
	UNIQUE (stream_key_hash)
);

CREATE INDEX ix_sessions_state_start ON sessions (state, starts_at);

CREATE INDEX ix_sessions_studio_start ON sessions (studio_id, starts_at);

CREATE TABLE web_sessions (
	id_hash VARCHAR(64) NOT NULL,
	token_id VARCHAR(32) NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id_hash),
	FOREIGN KEY(token_id) REFERENCES api_tokens (id) ON DELETE CASCADE
);

CREATE TABLE restream_destinations (
	id VARCHAR(32) NOT NULL,
	session_id VARCHAR(32) NOT NULL,
	name VARCHAR(200) NOT NULL,
	url TEXT NOT NULL,
	enabled BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(session_id) REFERENCES sessions (id) ON DELETE CASCADE
);

CREATE INDEX ix_restream_destinations_session_id ON restream_destinations (session_id);

CREATE TABLE recordings (
	session_id VARCHAR(32) NOT NULL,
	state VARCHAR(20) NOT NULL,
	message TEXT NOT NULL,
	duration FLOAT,
	trim_start FLOAT,
	trim_end FLOAT,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (session_id),
	FOREIGN KEY(session_id) REFERENCES sessions (id) ON DELETE CASCADE
);

CREATE TABLE media_owners (
	session_id VARCHAR(32) NOT NULL,
	node_url VARCHAR(300) NOT NULL,
	node_id VARCHAR(64) NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (session_id),
	FOREIGN KEY(session_id) REFERENCES sessions (id) ON DELETE CASCADE
);

CREATE INDEX ix_media_owners_node_url ON media_owners (node_url);

INSERT INTO studios (id, name, created_at) VALUES ('std_legacy', 'Aula', '2026-05-01 12:00:00+00');

INSERT INTO sessions (id, studio_id, title, description, speakers, language, starts_at, ends_at, state, auto_start, auto_end, stream_key_hash, created_at, updated_at) VALUES ('ses_legacy', 'std_legacy', 'Opening: innovative municipalities', 'The first session', '["Anna Berg"]', 'sv', '2026-05-20 07:00:00+00', '2026-05-20 07:45:00+00', 'scheduled', TRUE, FALSE, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '2026-05-01 12:00:00+00', '2026-05-01 12:00:00+00');

INSERT INTO api_tokens (id, token_hash, role, name, studio_ids, created_at) VALUES ('tok_legacy', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'operator', 'Studio Aula', '["std_legacy"]', '2026-05-01 12:00:00+00');

INSERT INTO web_sessions (id_hash, token_id, expires_at) VALUES ('cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', 'tok_legacy', '2026-05-21 07:00:00+00');

INSERT INTO room_facts (room, ms, seq, data) VALUES ('ses_legacy', 1779260400000, 0, '\x0102'::bytea);

INSERT INTO viewer_samples (room, minute, node, viewers, uniques) VALUES ('ses_legacy', '2026-05-20 07:00:00+00', 'node-1', 40, 55);

INSERT INTO audit_log (room, at, actor_id, actor_name, action, target, detail) VALUES ('ses_legacy', '2026-05-20 07:00:00+00', 'tok_legacy', 'Studio Aula', 'slow_mode', '', '30');

INSERT INTO restream_destinations (id, session_id, name, url, enabled, created_at, updated_at) VALUES ('dst_legacy', 'ses_legacy', 'Social', 'rtmp://social.example/live/key', TRUE, '2026-05-01 12:00:00+00', '2026-05-01 12:00:00+00');

INSERT INTO recordings (session_id, state, message, duration, trim_start, trim_end, updated_at) VALUES ('ses_legacy', 'ready', '', 2700.5, 12.0, NULL, '2026-05-20 07:45:00+00');

INSERT INTO media_owners (session_id, node_url, node_id, updated_at) VALUES ('ses_legacy', 'http://torget-1:8080', 'node-1', '2026-05-20 07:00:00+00');

INSERT INTO meta (key, value) VALUES ('signing_key', 'legacy-signing-key');
