BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" (version_num) VALUES('0001');
CREATE TABLE analytics_conversations (
	id INTEGER NOT NULL, 
	conversation_key VARCHAR(64) NOT NULL, 
	person_key VARCHAR(64) NOT NULL, 
	caller_key VARCHAR(64), 
	first_event_id INTEGER NOT NULL, 
	last_event_id INTEGER NOT NULL, 
	channel VARCHAR(20) NOT NULL, 
	started_at DATETIME NOT NULL, 
	ended_at DATETIME NOT NULL, 
	duration_seconds FLOAT NOT NULL, 
	turns INTEGER NOT NULL, 
	first_intent VARCHAR(100), 
	main_intent VARCHAR(100), 
	intents TEXT NOT NULL, 
	min_confidence FLOAT, 
	outcome VARCHAR(20) NOT NULL, 
	handover_service VARCHAR(100), 
	satisfaction VARCHAR(3), 
	PRIMARY KEY (id), 
	UNIQUE (conversation_key, first_event_id)
);
INSERT INTO "analytics_conversations" (id, conversation_key, person_key, caller_key, first_event_id, last_event_id, channel, started_at, ended_at, duration_seconds, turns, first_intent, main_intent, intents, min_confidence, outcome, handover_service, satisfaction) VALUES(1,'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc','pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp',NULL,1,42,'web','2026-11-30 09:30:00.000000','2026-11-30 09:30:00.000000',12.5,1,'greet','ask_visiting_hours','["greet"]',0.9,'answered',NULL,'oui');
CREATE TABLE analytics_state (
	name VARCHAR(50) NOT NULL, 
	value INTEGER NOT NULL, 
	PRIMARY KEY (name)
);
INSERT INTO "analytics_state" (name, value) VALUES('events',42);
CREATE TABLE analytics_turns (
	id INTEGER NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	conversation_key VARCHAR(64) NOT NULL, 
	event_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	intent VARCHAR(100), 
	confidence FLOAT, 
	fallback BOOLEAN NOT NULL, 
	responses TEXT NOT NULL, 
	feedback VARCHAR(3), 
	PRIMARY KEY (id), 
	FOREIGN KEY(conversation_id) REFERENCES analytics_conversations (id) ON DELETE CASCADE
);
INSERT INTO "analytics_turns" (id, conversation_id, conversation_key, event_id, at, intent, confidence, fallback, responses, feedback) VALUES(1,1,'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',3,'2026-11-30 09:30:00.000000','greet',0.9,0,'["utter_greet"]',NULL);
CREATE TABLE answer_feedback (
	id INTEGER NOT NULL, 
	sender_id VARCHAR(255) NOT NULL, 
	channel VARCHAR(50), 
	intent VARCHAR(100), 
	helpful BOOLEAN, 
	comment TEXT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "answer_feedback" (id, sender_id, channel, intent, helpful, comment, created_at) VALUES(1,'s1','rest','ask_visiting_hours',1,NULL,'2026-11-30 09:30:00.000000');
CREATE TABLE article (
	id INTEGER NOT NULL, 
	slug VARCHAR(120) NOT NULL, 
	topic VARCHAR(60) NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	body TEXT NOT NULL, 
	keywords JSON NOT NULL, 
	related JSON NOT NULL, 
	source VARCHAR(300) NOT NULL, 
	updated_at DATE NOT NULL, 
	show_updated_at BOOLEAN NOT NULL, 
	synced_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (slug)
);
INSERT INTO "article" (id, slug, topic, title, body, keywords, related, source, updated_at, show_updated_at, synced_at) VALUES(1,'preparation-operation','operation','Se préparer à une opération','Venez à jeun.','["jeun"]','[]','articles/op.md','2026-11-01',1,'2026-11-30 09:30:00.000000');
CREATE VIRTUAL TABLE article_search USING fts5(slug UNINDEXED, title, keywords, body, tokenize='unicode61');
INSERT INTO "article_search" (rowid, slug, title, keywords, body) VALUES(1,'preparation-operation','Se préparer à une opération','jeun','Venez à jeun.');
CREATE TABLE contact_history (
	id INTEGER NOT NULL, 
	person_key VARCHAR(64) NOT NULL, 
	conversation_key VARCHAR(64) NOT NULL, 
	session_start DATETIME NOT NULL, 
	channel VARCHAR(50), 
	reasons TEXT NOT NULL, 
	outcome VARCHAR(20), 
	service VARCHAR(100), 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_contact_session UNIQUE (conversation_key, session_start)
);
INSERT INTO "contact_history" (id, person_key, conversation_key, session_start, channel, reasons, outcome, service, created_at, updated_at) VALUES(1,'pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp','cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc','2026-11-30 09:30:00.000000','voice','ask_visiting_hours','callback','consultations','2026-11-30 09:30:00.000000','2026-11-30 09:30:00.000000');
CREATE TABLE handover_requests (
	id INTEGER NOT NULL, 
	sender_id VARCHAR(255) NOT NULL, 
	channel VARCHAR(50), 
	kind VARCHAR(20) NOT NULL, 
	service VARCHAR(100) NOT NULL, 
	summary TEXT NOT NULL, 
	name VARCHAR(200), 
	phone VARCHAR(20), 
	reason TEXT, 
	callback_at DATETIME, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "handover_requests" (id, sender_id, channel, kind, service, summary, name, phone, reason, callback_at, created_at) VALUES(1,'s2','voice','callback','consultations','Rappel pour un rendez-vous','Mme Test','0601020304','rendez-vous','2026-11-30 09:30:00.000000','2026-11-30 09:30:00.000000');
CREATE TABLE kb_version (
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	checksum VARCHAR(64) NOT NULL, 
	source VARCHAR(500) NOT NULL, 
	counts JSON NOT NULL, 
	changes JSON NOT NULL, 
	snapshot JSON NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "kb_version" (id, created_at, checksum, source, counts, changes, snapshot) VALUES(1,'2026-11-30 09:30:00.000000','aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','kb_content','{"article": 1}','{"added": ["preparation-operation"]}','{"articles": []}');
CREATE TABLE model_deployments (
	id INTEGER NOT NULL, 
	model_file TEXT NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	intent_macro_f1 FLOAT, 
	entity_macro_f1 FLOAT, 
	emergency_ok BOOLEAN, 
	forced BOOLEAN NOT NULL, 
	"by" VARCHAR(100) NOT NULL, 
	at DATETIME NOT NULL, 
	holdout_fingerprint VARCHAR(16), 
	figures JSON, 
	loaded BOOLEAN NOT NULL, 
	note TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "model_deployments" (id, model_file, kind, intent_macro_f1, entity_macro_f1, emergency_ok, forced, by, at, holdout_fingerprint, figures, loaded, note) VALUES(1,'/models/m.tar.gz','initial',0.9,0.8,NULL,0,'admin','2026-11-30 09:30:00.000000','ffffffffffffffff','{"intent_macro_f1": 0.9}',1,'');
CREATE TABLE model_evaluations (
	id INTEGER NOT NULL, 
	model VARCHAR(200) NOT NULL, 
	holdout_fingerprint VARCHAR(16) NOT NULL, 
	figures JSON NOT NULL, 
	report_dir TEXT NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (model, holdout_fingerprint)
);
INSERT INTO "model_evaluations" (id, model, holdout_fingerprint, figures, report_dir, at) VALUES(1,'m.tar.gz','ffffffffffffffff','{"intent_macro_f1": 0.9}','','2026-11-30 09:30:00.000000');
CREATE TABLE opening_hours (
	id INTEGER NOT NULL, 
	place_id INTEGER NOT NULL, 
	weekday SMALLINT NOT NULL, 
	opens TIME NOT NULL, 
	closes TIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(place_id) REFERENCES place (id) ON DELETE CASCADE
);
INSERT INTO "opening_hours" (id, place_id, weekday, opens, closes) VALUES(1,1,0,'08:00:00.000000','18:00:00.000000');
CREATE TABLE organisation (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	short_name VARCHAR(80) NOT NULL, 
	address VARCHAR(300) NOT NULL, 
	switchboard_phone VARCHAR(40) NOT NULL, 
	switchboard_hours VARCHAR(120) NOT NULL, 
	patient_portal VARCHAR(120) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "organisation" (id, name, short_name, address, switchboard_phone, switchboard_hours, patient_portal) VALUES(1,'Centre hospitalier de Test','CH Test','1 rue de l''Hôpital','01 02 03 04 05','24h/24','https://portail.example');
CREATE TABLE place (
	id INTEGER NOT NULL, 
	slug VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	synonyms JSON NOT NULL, 
	location VARCHAR(200), 
	phone VARCHAR(40), 
	always_open BOOLEAN NOT NULL, 
	note TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (slug)
);
INSERT INTO "place" (id, slug, name, synonyms, location, phone, always_open, note) VALUES(1,'accueil','Accueil principal','["hall"]','Rez-de-chaussée','01 02 03 04 06',0,NULL);
CREATE TABLE studio_audit (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	action VARCHAR(100) NOT NULL, 
	target TEXT NOT NULL, 
	detail JSON, 
	PRIMARY KEY (id)
);
INSERT INTO "studio_audit" (id, at, username, action, target, detail) VALUES(1,'2026-11-30 09:30:00.000000','admin','login','','{"ip": "127.0.0.1"}');
CREATE TABLE studio_inbox_decisions (
	id INTEGER NOT NULL, 
	"key" VARCHAR(300) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	intent VARCHAR(100), 
	text TEXT NOT NULL, 
	file VARCHAR(200), 
	username VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE ("key")
);
INSERT INTO "studio_inbox_decisions" (id, key, kind, intent, text, file, username, at) VALUES(1,'k1','ignore',NULL,'bonjour',NULL,'admin','2026-11-30 09:30:00.000000');
CREATE TABLE studio_jobs (
	id INTEGER NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	status VARCHAR(12) NOT NULL, 
	step TEXT NOT NULL, 
	percent INTEGER NOT NULL, 
	log_tail TEXT NOT NULL, 
	result JSON, 
	error TEXT, 
	username VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO "studio_jobs" (id, kind, status, step, percent, log_tail, result, error, username, created_at, started_at, finished_at) VALUES(1,'train','done','Terminé',100,'ok','{"model": "m.tar.gz"}',NULL,'admin','2026-11-30 09:30:00.000000','2026-11-30 09:30:00.000000','2026-11-30 09:30:00.000000');
CREATE TABLE studio_users (
	id INTEGER NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	active BOOLEAN NOT NULL, 
	failed_logins INTEGER NOT NULL, 
	locked_until DATETIME, 
	created_at DATETIME NOT NULL, 
	last_login_at DATETIME, 
	session_epoch INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
INSERT INTO "studio_users" (id, username, password_hash, role, active, failed_logins, locked_until, created_at, last_login_at, session_epoch) VALUES(1,'admin','$argon2id$v=19$m=65536,t=3,p=4$x$y','admin',1,0,NULL,'2026-11-30 09:30:00.000000','2026-11-30 09:30:00.000000',1);
CREATE TABLE visiting_rule (
	id INTEGER NOT NULL, 
	ward_id INTEGER NOT NULL, 
	position SMALLINT NOT NULL, 
	audience VARCHAR(120) NOT NULL, 
	all_day BOOLEAN NOT NULL, 
	opens TIME, 
	closes TIME, 
	max_visitors SMALLINT, 
	min_age SMALLINT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(ward_id) REFERENCES ward (id) ON DELETE CASCADE
);
INSERT INTO "visiting_rule" (id, ward_id, position, audience, all_day, opens, closes, max_visitors, min_age) VALUES(1,1,0,'Tous',0,'14:00:00.000000','20:00:00.000000',2,12);
CREATE TABLE ward (
	id INTEGER NOT NULL, 
	slug VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	synonyms JSON NOT NULL, 
	is_default BOOLEAN NOT NULL, 
	note TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (slug)
);
INSERT INTO "ward" (id, slug, name, synonyms, is_default, note) VALUES(1,'maternite','Maternité','["naissance"]',0,'Calme');
CREATE INDEX ix_analytics_conversations_caller_key ON analytics_conversations (caller_key);
CREATE INDEX ix_analytics_conversations_conversation_key ON analytics_conversations (conversation_key);
CREATE INDEX ix_analytics_conversations_main_intent ON analytics_conversations (main_intent);
CREATE INDEX ix_analytics_conversations_person_key ON analytics_conversations (person_key);
CREATE INDEX ix_analytics_conversations_started_at ON analytics_conversations (started_at);
CREATE INDEX ix_analytics_turns_conversation_id ON analytics_turns (conversation_id);
CREATE INDEX ix_answer_feedback_sender_id ON answer_feedback (sender_id);
CREATE INDEX ix_article_topic ON article (topic);
CREATE INDEX ix_contact_history_person_key ON contact_history (person_key);
CREATE INDEX ix_handover_requests_sender_id ON handover_requests (sender_id);
CREATE INDEX ix_kb_version_checksum ON kb_version (checksum);
CREATE INDEX ix_opening_hours_place_id ON opening_hours (place_id);
CREATE INDEX ix_studio_audit_at ON studio_audit (at);
CREATE INDEX ix_visiting_rule_ward_id ON visiting_rule (ward_id);
COMMIT;
