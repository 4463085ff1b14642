"""The resident portal (マイナポータル's 住基 part): a card holder sees what the network holds and
did about them (本人確認情報開示, 提供状況開示, certificates, operators' views, 本人通知).
docs/portal.md."""
