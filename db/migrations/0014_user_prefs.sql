-- The dashboard language each user chose, remembered across reloads and devices (issue 9, words).
-- NULL: not chosen yet, the dashboard opens in Chinese (zh_CN, the default catalogue).
ALTER TABLE app_user ADD COLUMN lang text CHECK (lang IN ('zh', 'en'));
